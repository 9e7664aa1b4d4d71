namespace AlignSharp.Models.ChatTemplates;

/// <summary>
/// Chat templates for models whose tokenizer_config.json ships none. The sources are byte-identical to
/// tools/fixtures/chat_templates/templates/{chatml,llama3,mistral_v0_1,zephyr}.jinja, so the parity fixtures cover them.
/// </summary>
public static class BuiltInTemplates
{
    // Raw string literals drop the final newline before the closing quotes; the files end with one newline, which
    // jinja2 drops anyway (keep_trailing_newline=False).
    static readonly Dictionary<string, string> Sources = new(StringComparer.OrdinalIgnoreCase)
    {
        ["chatml"] = """
{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}
""",
        ["llama3"] = """
{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}
""",
        ["mistral"] = """
{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}
""",
        ["zephyr"] = """
{% for message in messages %}
{% if message['role'] == 'user' %}
{{ '<|user|>\n' + message['content'] + eos_token }}
{% elif message['role'] == 'system' %}
{{ '<|system|>\n' + message['content'] + eos_token }}
{% elif message['role'] == 'assistant' %}
{{ '<|assistant|>\n'  + message['content'] + eos_token }}
{% endif %}
{% if loop.last and add_generation_prompt %}
{{ '<|assistant|>' }}
{% endif %}
{% endfor %}
""",
    };

    // The bos_token / eos_token of each template's model family, used when the caller's options give none (a template
    // rendered without a tokenizer folder, e.g. `chat render --template llama3`); a folder's own tokens win.
    static readonly Dictionary<string, (string? Bos, string? Eos)> SpecialTokens = new(StringComparer.OrdinalIgnoreCase)
    {
        ["chatml"] = (null, "<|im_end|>"),
        ["llama3"] = ("<|begin_of_text|>", "<|eot_id|>"),
        ["mistral"] = ("<s>", "</s>"),
        ["zephyr"] = ("<s>", "</s>"),
    };

    /// <summary>Known template names: chatml, llama3, mistral (v0.1 [INST] style), zephyr.</summary>
    public static IReadOnlyCollection<string> Names => Sources.Keys;

    /// <summary>The template source registered under <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the known ones.</exception>
    public static string GetSource(string name) =>
        Sources.TryGetValue(name, out var source)
            ? source
            : throw new ArgumentException($"unknown built-in chat template '{name}'; known: {string.Join(", ", Sources.Keys)}", nameof(name));

    /// <summary>
    /// The parsed template registered under <paramref name="name"/> (case-insensitive), with its family's bos_token and
    /// eos_token as defaults (<see cref="ChatTemplate.DefaultBosToken"/>), so it renders without a tokenizer folder.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the known ones.</exception>
    public static ChatTemplate Get(string name)
    {
        var template = ChatTemplate.Parse(GetSource(name), $"built-in chat template '{name}'");
        var (bos, eos) = SpecialTokens[name];
        return template.WithSpecialTokenDefaults(bos, eos);
    }
}
