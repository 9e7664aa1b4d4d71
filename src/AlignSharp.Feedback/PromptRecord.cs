namespace AlignSharp.Feedback;

/// <summary>
/// A prompt with what the signal sources may know about it: a category and metadata such as the expected answer
/// ("answer"), a format constraint ("format": one_word, three_items, upper_case) or whether the request is harmful
/// ("harmful": "true"). Sources that need no metadata (an LLM judge) ignore it.
/// </summary>
public sealed record PromptRecord(string Id, string Text, string Category, IReadOnlyDictionary<string, string> Metadata)
{
    public string? Get(string key) => Metadata.TryGetValue(key, out var v) ? v : null;
    public bool IsHarmful => Get("harmful") == "true";
}
