using System.Text.Json;

namespace AlignSharp.Models.ChatTemplates;

/// <summary>
/// A parsed Hugging Face <c>chat_template</c> (Jinja), rendered the way transformers'
/// <c>apply_chat_template</c> renders it: jinja2 with <c>trim_blocks</c> and <c>lstrip_blocks</c>, loop controls,
/// <c>raise_exception</c>, <c>strftime_now</c>, and a <c>tojson</c> that keeps key order and non-ASCII text.
/// </summary>
/// <example>
/// <code>
/// var template = ChatTemplate.Parse(File.ReadAllText("template.jinja"), "template.jinja");
/// var result = template.Render(messagesJson, new ChatTemplateOptions { AddGenerationPrompt = true });
/// </code>
/// </example>
public sealed class ChatTemplate
{
    readonly List<Node> _body;

    ChatTemplate(string source, string? origin, List<Node> body)
    {
        Source = source;
        Origin = origin;
        _body = body;
        HasGenerationTags = ContainsGeneration(body);
    }

    /// <summary>Parses <paramref name="source"/>; syntax errors throw <see cref="TemplateException"/> naming <paramref name="origin"/>, line and column.</summary>
    /// <param name="source">The Jinja template text.</param>
    /// <param name="origin">Where the template came from (e.g. <c>"tokenizer_config.json chat_template"</c>), used in error messages.</param>
    public static ChatTemplate Parse(string source, string? origin = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new ChatTemplate(source, origin, Parser.Parse(source, origin));
    }

    /// <summary>The template text as given to <see cref="Parse"/>.</summary>
    public string Source { get; }

    /// <summary>The origin name used in error messages, if any.</summary>
    public string? Origin { get; }

    /// <summary>
    /// bos_token / eos_token used when <see cref="ChatTemplateOptions"/> gives none: set for the built-in templates
    /// (their model family's tokens), so they render standalone; null for a parsed template, where an unset token stays undefined.
    /// </summary>
    public string? DefaultBosToken { get; private init; }

    /// <inheritdoc cref="DefaultBosToken"/>
    public string? DefaultEosToken { get; private init; }

    /// <summary>This template with <see cref="DefaultBosToken"/> and <see cref="DefaultEosToken"/> set (the parsed body is shared).</summary>
    internal ChatTemplate WithSpecialTokenDefaults(string? bos, string? eos) =>
        new(Source, Origin, _body) { DefaultBosToken = bos, DefaultEosToken = eos };

    /// <summary>True when the template marks assistant text with <c>{% generation %}...{% endgeneration %}</c>.</summary>
    public bool HasGenerationTags { get; }

    /// <summary>
    /// Renders a conversation. <paramref name="messages"/> must be a JSON array of objects with at least <c>role</c>
    /// (and usually <c>content</c>, <c>tool_calls</c>, ...); every field is visible to the template.
    /// </summary>
    /// <remarks>
    /// <para><see cref="ChatTemplateResult.AssistantSpans"/> are found in one of two ways:</para>
    /// <list type="bullet">
    /// <item>With generation tags: each span is exactly the text a <c>{% generation %}</c> block emitted (as transformers'
    /// <c>return_assistant_tokens_mask</c> does).</item>
    /// <item>Without them, by the prefix rule: for each assistant message i, let P = render(messages[..i],
    /// add_generation_prompt: true) and Q = render(messages[..(i+1)], add_generation_prompt: false). When both P and Q are
    /// prefixes of the full text and Q is longer than P, the span is [len(P), len(Q)): the assistant's content plus whatever
    /// the template writes after it until the next turn starts (end-of-turn tokens such as <c>&lt;|im_end|&gt;\n</c>,
    /// <c>&lt;|eot_id|&gt;</c>, or <c>eos_token</c>). A message whose prefixes do not line up (templates that render
    /// history differently from the last turn, or that reject a partial conversation) gets no span.</item>
    /// </list>
    /// </remarks>
    /// <exception cref="TemplateException">The template failed, or called <c>raise_exception</c>.</exception>
    public ChatTemplateResult Render(JsonElement messages, ChatTemplateOptions? options = null)
    {
        if (messages.ValueKind != JsonValueKind.Array)
            throw new ArgumentException($"messages must be a JSON array of {{role, content}} objects, got {messages.ValueKind}", nameof(messages));
        return Render((List<object?>)ValueConversion.FromJson(messages)!, options ?? new ChatTemplateOptions());
    }

    /// <summary>
    /// Renders a conversation of Microsoft.Extensions.AI messages, exactly as the same conversation written as JSON
    /// (<see cref="Render(JsonElement, ChatTemplateOptions?)"/>): role, text content, tool calls and tool results are
    /// mapped to the fields Hugging Face templates read (see <see cref="ChatMessageConversion"/> for the mapping).
    /// </summary>
    /// <exception cref="ArgumentException">A message holds content a text template cannot render (an image, a file).</exception>
    /// <exception cref="TemplateException">The template failed, or called <c>raise_exception</c>.</exception>
    public ChatTemplateResult Render(IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages, ChatTemplateOptions? options = null) =>
        Render(ChatMessageConversion.ToTemplateMessages(messages), options ?? new ChatTemplateOptions());

    ChatTemplateResult Render(List<object?> list, ChatTemplateOptions options)
    {
        var (text, generationSpans) = RenderList(list, options, options.AddGenerationPrompt);
        if (HasGenerationTags) return new ChatTemplateResult(text, generationSpans);
        return new ChatTemplateResult(text, PrefixSpans(list, options, text));
    }

    (string Text, List<(int Start, int End)> Spans) RenderList(List<object?> messages, ChatTemplateOptions options, bool addGenerationPrompt)
    {
        var variables = new Dictionary<string, object?>
        {
            ["messages"] = messages,
            ["add_generation_prompt"] = addGenerationPrompt,
        };
        if ((options.BosToken ?? DefaultBosToken) is { } bos) variables["bos_token"] = bos;
        if ((options.EosToken ?? DefaultEosToken) is { } eos) variables["eos_token"] = eos;
        if (options.Tools is { } tools) variables["tools"] = ValueConversion.FromJson(tools);
        if (options.Extra is not null)
            foreach (var (k, v) in options.Extra) variables[k] = ValueConversion.FromObject(v);
        return Interpreter.Render(_body, Source, Origin, variables);
    }

    List<(int Start, int End)> PrefixSpans(List<object?> messages, ChatTemplateOptions options, string full)
    {
        var spans = new List<(int, int)>();
        for (int i = 0; i < messages.Count; i++)
        {
            if (messages[i] is not OrderedDictionary<string, object?> m || !(m.TryGetValue("role", out var role) && role is "assistant")) continue;
            try
            {
                string before = RenderList(messages[..i], options, addGenerationPrompt: true).Text;
                string through = RenderList(messages[..(i + 1)], options, addGenerationPrompt: false).Text;
                if (through.Length > before.Length && full.StartsWith(before, StringComparison.Ordinal) && full.StartsWith(through, StringComparison.Ordinal))
                    spans.Add((before.Length, through.Length));
            }
            catch (TemplateException)
            {
                // The template rejects this partial conversation (e.g. it must end with a user turn): no span for it.
            }
        }
        return spans;
    }

    static bool ContainsGeneration(IEnumerable<Node> nodes) => nodes.Any(n => n switch
    {
        GenerationNode => true,
        IfNode i => i.Branches.Any(b => ContainsGeneration(b.Body)) || ContainsGeneration(i.Else),
        ForNode f => ContainsGeneration(f.Body) || ContainsGeneration(f.Else),
        SetNode { Body: { } body } => ContainsGeneration(body),
        MacroNode m => ContainsGeneration(m.Body),
        CallBlockNode c => ContainsGeneration(c.Body),
        FilterBlockNode f => ContainsGeneration(f.Body),
        _ => false,
    });
}
