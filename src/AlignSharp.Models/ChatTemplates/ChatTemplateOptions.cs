using System.Text.Json;

namespace AlignSharp.Models.ChatTemplates;

/// <summary>Variables passed to a chat template besides <c>messages</c>, named as transformers names them.</summary>
public sealed record ChatTemplateOptions
{
    /// <summary><c>add_generation_prompt</c>: append the header that opens the assistant's next turn. Default false.</summary>
    public bool AddGenerationPrompt { get; init; }

    /// <summary><c>bos_token</c>, usually from tokenizer_config.json; undefined in the template when null.</summary>
    public string? BosToken { get; init; }

    /// <summary><c>eos_token</c>, usually from tokenizer_config.json; undefined in the template when null.</summary>
    public string? EosToken { get; init; }

    /// <summary><c>tools</c>: a JSON array of tool (function) schemas; undefined in the template when null.</summary>
    public JsonElement? Tools { get; init; }

    /// <summary>
    /// Any other template variables, e.g. <c>date_string</c>, <c>enable_thinking</c>, <c>documents</c>. Values may be
    /// strings, numbers, bools, null, <see cref="JsonElement"/>/JsonNode, dictionaries or lists. They override the
    /// named options above when the names collide.
    /// </summary>
    public IReadOnlyDictionary<string, object?>? Extra { get; init; }
}
