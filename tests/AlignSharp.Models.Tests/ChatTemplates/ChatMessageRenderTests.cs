using System.Text.Json;
using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Generation;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Models.Transformers;
using Microsoft.Extensions.AI;

namespace AlignSharp.Models.Tests.ChatTemplates;

/// <summary>
/// A conversation given as Microsoft.Extensions.AI <see cref="ChatMessage"/>s renders exactly as the same conversation
/// written as JSON messages: for the built-in templates, and for every case of the reference fixture (real model
/// templates, tool calls included) that ChatMessages can express.
/// </summary>
public class ChatMessageRenderTests
{
    static ChatMessage[] Conversation() =>
    [
        new(ChatRole.System, "You are terse."),
        new(ChatRole.User, "What is 2 + 2?"),
        new(ChatRole.Assistant, "4."),
        new(ChatRole.User, "And 3 + 3? Answer with \"six\" — or 6."),
    ];

    static JsonElement ConversationJson() => JsonDocument.Parse("""
        [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "What is 2 + 2?"},
         {"role": "assistant", "content": "4."}, {"role": "user", "content": "And 3 + 3? Answer with \"six\" — or 6."}]
        """).RootElement;

    public static TheoryData<string, bool> BuiltIns()
    {
        var data = new TheoryData<string, bool>();
        foreach (var name in BuiltInTemplates.Names) { data.Add(name, true); data.Add(name, false); }
        return data;
    }

    [Theory, MemberData(nameof(BuiltIns))]
    public void Built_in_templates_render_chat_messages_as_json_messages(string name, bool addGenerationPrompt)
    {
        var template = BuiltInTemplates.Get(name);
        var options = new ChatTemplateOptions { AddGenerationPrompt = addGenerationPrompt };
        // Mistral's template has no system role (it raises); it gets the conversation from the first user turn.
        int skip = name == "mistral" ? 1 : 0;
        var fromJson = template.Render(JsonSerializer.SerializeToElement(ConversationJson().EnumerateArray().Skip(skip)), options);
        var fromMessages = template.Render(Conversation().Skip(skip), options);
        Assert.Equal(fromJson.Text, fromMessages.Text);
        Assert.Equal(fromJson.AssistantSpans, fromMessages.AssistantSpans);
        Assert.Contains("And 3 + 3?", fromMessages.Text);
    }

    /// <summary>The fixture's messages as ChatMessages, or null when they use a field or shape ChatMessage cannot express.</summary>
    static List<ChatMessage>? AsChatMessages(JsonElement messages)
    {
        if (messages.ValueKind != JsonValueKind.Array) return null;
        var list = new List<ChatMessage>();
        foreach (var m in messages.EnumerateArray())
        {
            if (m.ValueKind != JsonValueKind.Object) return null;
            var keys = m.EnumerateObject().Select(p => p.Name).ToArray();
            // The conversion writes role, name, content, tool_calls in this order; other fields or orders are not expressible.
            string[] order = ["role", "name", "content", "tool_calls"];
            if (keys.Any(k => !order.Contains(k)) || !keys.SequenceEqual(order.Where(keys.Contains)) || !keys.Contains("role") || !keys.Contains("content")) return null;
            if (m.GetProperty("role").ValueKind != JsonValueKind.String) return null;
            var role = new ChatRole(m.GetProperty("role").GetString()!);
            var contents = new List<AIContent>();
            var content = m.GetProperty("content");
            if (content.ValueKind == JsonValueKind.String) contents.Add(new TextContent(content.GetString()));
            else if (content.ValueKind != JsonValueKind.Null || !keys.Contains("tool_calls") || role != ChatRole.Assistant) return null;
            if (m.TryGetProperty("tool_calls", out var calls))
            {
                foreach (var call in calls.EnumerateArray())
                {
                    var callKeys = call.EnumerateObject().Select(p => p.Name).ToArray();
                    if (!callKeys.SequenceEqual(["type", "function"]) || call.GetProperty("type").GetString() != "function") return null;
                    var function = call.GetProperty("function");
                    if (!function.EnumerateObject().Select(p => p.Name).SequenceEqual(["name", "arguments"])) return null;
                    var arguments = function.GetProperty("arguments");
                    if (arguments.ValueKind != JsonValueKind.Object) return null; // a JSON string of arguments has no ChatMessage form
                    contents.Add(new FunctionCallContent("", function.GetProperty("name").GetString()!,
                        arguments.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone())));
                }
            }
            list.Add(new ChatMessage(role, contents) { AuthorName = m.TryGetProperty("name", out var n) ? n.GetString() : null });
        }
        return list;
    }

    static string Outcome(Func<ChatTemplateResult> render)
    {
        try { return "text: " + render().Text; }
        catch (TemplateException e) { return "error: " + e.Message; }
    }

    [Fact]
    public void Every_fixture_case_chat_messages_can_express_renders_as_its_json()
    {
        int compared = 0, withToolCalls = 0, withToolMessages = 0;
        var templates = new HashSet<string>();
        foreach (var c in ChatTemplateFixtureTests.Root.GetProperty("cases").EnumerateArray())
        {
            var messages = c.GetProperty("messages");
            if (AsChatMessages(messages) is not { } chat) continue;
            string templateName = c.GetProperty("template").GetString()!;
            var template = ChatTemplate.Parse(ChatTemplateFixtureTests.TemplateSource(templateName), templateName + ".jinja");
            var options = ChatTemplateFixtureTests.Options(c.GetProperty("options"));
            Assert.True(Outcome(() => template.Render(messages, options)) == Outcome(() => template.Render(chat, options)),
                $"{c.GetProperty("name").GetString()}: ChatMessages render differently from the JSON messages");
            compared++;
            templates.Add(templateName);
            if (chat.Any(m => m.Contents.OfType<FunctionCallContent>().Any())) withToolCalls++;
            if (chat.Any(m => m.Role == ChatRole.Tool)) withToolMessages++;
        }
        Assert.True(compared >= 180, $"only {compared} fixture cases compared");
        Assert.True(withToolCalls >= 15 && withToolMessages >= 15, $"tool calls in {withToolCalls} cases, tool messages in {withToolMessages}");
        foreach (var name in new[] { "qwen2_5", "llama3_1", "mistral_v0_1", "gemma", "phi3", "deepseek_r1", "smollm2", "tojson_unicode" })
            Assert.Contains(name, templates);
    }

    [Fact]
    public void Function_results_become_one_tool_message_each_with_their_call_id()
    {
        var template = ChatTemplate.Parse("{% for m in messages %}{{ m | tojson }}\n{% endfor %}");
        var messages = new[]
        {
            new ChatMessage(ChatRole.User, "Weather in Paris and Rome?"),
            new ChatMessage(ChatRole.Assistant, [
                new FunctionCallContent("c1", "get_weather", new Dictionary<string, object?> { ["city"] = "Paris", ["days"] = 2 }),
                new FunctionCallContent("c2", "get_weather", new Dictionary<string, object?> { ["city"] = "Rome" })]),
            new ChatMessage(ChatRole.Tool, [new FunctionResultContent("c1", "21 C"), new FunctionResultContent("c2", new Dictionary<string, object?> { ["celsius"] = 25 })]),
            new ChatMessage(ChatRole.Assistant, [new TextReasoningContent("Both are warm."), new TextContent("Paris 21 C, Rome 25 C."), new UsageContent(new UsageDetails { TotalTokenCount = 9 })]),
        };
        string expected = """
            {"role": "user", "content": "Weather in Paris and Rome?"}
            {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}}, {"id": "c2", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Rome"}}}]}
            {"role": "tool", "content": "21 C", "tool_call_id": "c1"}
            {"role": "tool", "content": "{\"celsius\":25}", "tool_call_id": "c2"}
            {"role": "assistant", "content": "Paris 21 C, Rome 25 C.", "reasoning_content": "Both are warm."}

            """;
        Assert.Equal(expected.ReplaceLineEndings("\n"), template.Render(messages).Text);
    }

    [Fact]
    public void Content_a_text_template_cannot_render_is_refused_naming_the_message()
    {
        var template = BuiltInTemplates.Get("chatml");
        var image = new ChatMessage(ChatRole.User, [new TextContent("What is this?"), new DataContent(new byte[] { 1, 2, 3 }, "image/png")]);
        var ex = Assert.Throws<ArgumentException>(() => template.Render([new ChatMessage(ChatRole.System, "Hi."), image]));
        Assert.StartsWith("messages[1] (user) holds DataContent, which a chat template cannot render", ex.Message);
        var mixed = new ChatMessage(ChatRole.Tool, [new TextContent("note"), new FunctionResultContent("c1", "ok")]);
        ex = Assert.Throws<ArgumentException>(() => template.Render([mixed]));
        Assert.StartsWith("messages[0] (tool) holds function results together with text or calls", ex.Message);
    }

    [Fact]
    public async Task The_local_chat_client_prompts_with_the_templates_render_of_its_messages()
    {
        var tokenizer = Tokenizer.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers", "qwen2"));
        var config = ModelPresets.Get("tiny", Architecture.Qwen2) with { VocabSize = tokenizer.VocabSize };
        using var model = TransformerModel.Create(config, seed: 1);
        var template = BuiltInTemplates.Get("chatml");
        var options = new ChatTemplateOptions { EosToken = "<|im_end|>" };
        using IChatClient client = new LocalChatClient(model, tokenizer, template, options);
        var response = await client.GetResponseAsync(Conversation(), new ChatOptions { MaxOutputTokens = 1, Temperature = 0 });
        var json = ChatEncoder.Encode(tokenizer, template, ConversationJson(), options with { AddGenerationPrompt = true });
        Assert.Equal(json.Ids.Length, response.Usage!.InputTokenCount);
    }
}
