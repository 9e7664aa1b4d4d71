using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AlignSharp.Models.ChatTemplates;

/// <summary>
/// Microsoft.Extensions.AI <see cref="ChatMessage"/>s as the message dictionaries Hugging Face chat templates read
/// (what transformers' apply_chat_template is given), so a conversation renders the same from either form:
/// <list type="bullet">
/// <item><c>role</c>: <see cref="ChatRole.Value"/> (system, user, assistant, tool, or a custom role as it is).</item>
/// <item><c>name</c>: <see cref="ChatMessage.AuthorName"/>, when set (a tool message's function name in some templates).</item>
/// <item><c>content</c>: the message's text (<see cref="ChatMessage.Text"/>); null for an assistant turn that only calls tools
/// (OpenAI's convention, which templates such as DeepSeek-R1 test with <c>content is none</c>).</item>
/// <item><c>tool_calls</c>: each <see cref="FunctionCallContent"/> as <c>{id?, type: "function", function: {name, arguments}}</c>,
/// arguments as a mapping (templates print them with <c>tojson</c>).</item>
/// <item>Each <see cref="FunctionResultContent"/> becomes its own tool message <c>{role: "tool", name?, content, tool_call_id?}</c>,
/// content the result's text (a non-string result as JSON), as OpenAI clients split them.</item>
/// <item><c>reasoning_content</c>: the <see cref="TextReasoningContent"/> text, when there is any (Qwen3-style templates).</item>
/// </list>
/// <see cref="UsageContent"/> carries no conversation and is skipped; any other content (images, files, URIs) has no
/// place in a text template and is refused, naming the message.
/// </summary>
internal static class ChatMessageConversion
{
    // M.E.AI's own serializer settings (what its clients send), written compactly as OpenAI's clients send tool results.
    static readonly JsonSerializerOptions Json = new(AIJsonUtilities.DefaultOptions) { WriteIndented = false };

    /// <summary>The messages as template values: a list of ordered dictionaries, in the key order transformers' examples use.</summary>
    /// <exception cref="ArgumentException">A message holds content a text template cannot render.</exception>
    public static List<object?> ToTemplateMessages(IEnumerable<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var list = new List<object?>();
        int index = 0;
        foreach (var message in messages)
        {
            if (message is null) throw new ArgumentException($"messages[{index}] is null", nameof(messages));
            Add(list, message, index++);
        }
        return list;
    }

    static void Add(List<object?> list, ChatMessage message, int index)
    {
        bool hasText = false;
        List<object?>? toolCalls = null;
        List<FunctionResultContent>? results = null;
        string? reasoning = null;
        foreach (var content in message.Contents)
        {
            switch (content)
            {
                case TextContent: hasText = true; break;
                case TextReasoningContent r: reasoning = (reasoning ?? "") + r.Text; break;
                case FunctionCallContent call: (toolCalls ??= []).Add(ToolCall(call, index)); break;
                case FunctionResultContent result: (results ??= []).Add(result); break;
                case UsageContent: break; // token counts of a response, not part of the conversation
                default:
                    throw new ArgumentException($"messages[{index}] ({message.Role.Value}) holds {content.GetType().Name}, which a chat template cannot render; " +
                        "only text, reasoning, function calls and function results can be", nameof(message));
            }
        }

        if (results is not null)
        {
            if (hasText || toolCalls is not null)
                throw new ArgumentException($"messages[{index}] ({message.Role.Value}) holds function results together with text or calls; put each function result in a tool message of its own", nameof(message));
            foreach (var result in results)
            {
                var tool = new OrderedDictionary<string, object?> { ["role"] = ChatRole.Tool.Value };
                if (message.AuthorName is { } author) tool["name"] = author;
                tool["content"] = result.Result switch
                {
                    null => "",
                    string s => s,
                    var other => JsonSerializer.Serialize(other, Json.GetTypeInfo(other.GetType())),
                };
                if (!string.IsNullOrEmpty(result.CallId)) tool["tool_call_id"] = result.CallId;
                list.Add(tool);
            }
            return;
        }

        var m = new OrderedDictionary<string, object?> { ["role"] = message.Role.Value };
        if (message.AuthorName is { } name) m["name"] = name;
        m["content"] = !hasText && toolCalls is not null && message.Role == ChatRole.Assistant ? null : message.Text;
        if (toolCalls is not null) m["tool_calls"] = toolCalls;
        if (reasoning is not null) m["reasoning_content"] = reasoning;
        list.Add(m);
    }

    static OrderedDictionary<string, object?> ToolCall(FunctionCallContent call, int index)
    {
        object? arguments;
        try
        {
            // Through JSON, so argument values of any serializable type arrive as plain mappings, lists and scalars.
            arguments = call.Arguments is null ? new OrderedDictionary<string, object?>()
                : ValueConversion.FromJson(JsonSerializer.SerializeToElement(call.Arguments, Json.GetTypeInfo(typeof(IDictionary<string, object?>))));
        }
        catch (Exception e) when (e is NotSupportedException or JsonException or InvalidOperationException)
        {
            throw new ArgumentException($"messages[{index}]: the arguments of the call to '{call.Name}' cannot be written as JSON: {e.Message}", nameof(call));
        }
        var toolCall = new OrderedDictionary<string, object?>();
        if (!string.IsNullOrEmpty(call.CallId)) toolCall["id"] = call.CallId;
        toolCall["type"] = "function";
        toolCall["function"] = new OrderedDictionary<string, object?> { ["name"] = call.Name, ["arguments"] = arguments };
        return toolCall;
    }
}
