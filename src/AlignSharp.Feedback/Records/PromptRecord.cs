using Microsoft.Extensions.AI;

namespace AlignSharp.Feedback;

/// <summary>
/// A prompt: a conversation (one or more turns, the last one the user's) with what the signal sources may know about
/// it — a category and metadata such as the expected answer ("answer"), a format constraint ("format") or whether the
/// request is harmful ("harmful": "true"). Sources that need no metadata (an LLM judge) read only the messages.
/// </summary>
/// <param name="Id">Stable id, unique within a prompt set.</param>
/// <param name="Messages">The conversation so far (system, user and assistant turns), ending with the turn to answer.</param>
/// <param name="Category">A prompt category that principles may filter on (<c>applies_to</c>); "" when there is none.</param>
/// <param name="Metadata">What checks may know about the prompt, as strings.</param>
public sealed record PromptRecord(string Id, IReadOnlyList<ChatMessage> Messages, string Category, IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>A single-turn prompt: one user message.</summary>
    public PromptRecord(string id, string text, string category, IReadOnlyDictionary<string, string> metadata)
        : this(id, [new ChatMessage(ChatRole.User, text)], category, metadata) { }

    /// <summary>The text of the last user turn (the request a response answers).</summary>
    public string Text => Messages.LastOrDefault(m => m.Role == ChatRole.User)?.Text ?? "";

    public string? Get(string key) => Metadata.TryGetValue(key, out var v) ? v : null;
    public bool IsHarmful => Get("harmful") == "true";
}
