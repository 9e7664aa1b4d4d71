namespace AlignSharp.Models.ChatTemplates;

/// <summary>
/// A rendered conversation. <paramref name="AssistantSpans"/> are half-open character ranges [Start, End) of
/// <paramref name="Text"/> that belong to assistant turns, in order; trainers map them to tokens for assistant-only loss.
/// </summary>
public sealed record ChatTemplateResult(string Text, IReadOnlyList<(int Start, int End)> AssistantSpans);
