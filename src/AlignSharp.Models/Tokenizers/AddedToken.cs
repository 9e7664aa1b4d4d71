using System.Text.Json;

namespace AlignSharp.Models.Tokenizers;

/// <summary>
/// A token matched on the raw text before pre-tokenization (tokenizer.json's <c>added_tokens</c>).
/// lstrip/rstrip let the match swallow whitespace on that side; single_word only matches when not
/// inside a word; normalized tokens are matched after the normalizer, the others before it.
/// </summary>
public sealed record AddedToken(int Id, string Content, bool Special = true, bool SingleWord = false, bool LStrip = false, bool RStrip = false, bool Normalized = false)
{
    internal static AddedToken FromJson(JsonElement e, string path) => new(
        TokenizerJson.Int(e, "id", path),
        TokenizerJson.RequireString(e, "content", path),
        TokenizerJson.Bool(e, "special", false, path),
        TokenizerJson.Bool(e, "single_word", false, path),
        TokenizerJson.Bool(e, "lstrip", false, path),
        TokenizerJson.Bool(e, "rstrip", false, path),
        TokenizerJson.Bool(e, "normalized", false, path));

    internal void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteNumber("id", Id);
        w.WriteString("content", Content);
        w.WriteBoolean("single_word", SingleWord);
        w.WriteBoolean("lstrip", LStrip);
        w.WriteBoolean("rstrip", RStrip);
        w.WriteBoolean("normalized", Normalized);
        w.WriteBoolean("special", Special);
        w.WriteEndObject();
    }
}

/// <summary>Finds added tokens in text: leftmost match, longest content first among those starting there.</summary>
internal sealed class AddedTokenMatcher
{
    private readonly Dictionary<char, AddedToken[]> _byFirstChar;

    public AddedTokenMatcher(IEnumerable<AddedToken> tokens)
    {
        _byFirstChar = tokens.Where(t => t.Content.Length > 0)
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
    }

    public bool IsEmpty => _byFirstChar.Count == 0;

    /// <summary>
    /// Splits text[start, end) into segments: (start, length, token) where token is null for plain text.
    /// A match's span includes the whitespace its lstrip/rstrip swallowed.
    /// </summary>
    public void Split(string text, int start, int end, List<(int Start, int Length, AddedToken? Token)> output)
    {
        int plain = start, i = start;
        while (i < end)
        {
            if (_byFirstChar.TryGetValue(text[i], out var candidates))
            {
                AddedToken? hit = null;
                foreach (var t in candidates)
                {
                    if (t.Content.Length <= end - i && string.CompareOrdinal(text, i, t.Content, 0, t.Content.Length) == 0
                        && (!t.SingleWord || IsWordBoundary(text, i, i + t.Content.Length, start, end)))
                    { hit = t; break; }
                }
                if (hit is not null)
                {
                    int s = i, e = i + hit.Content.Length;
                    if (hit.LStrip) while (s > plain && char.IsWhiteSpace(text[s - 1])) s--;
                    if (hit.RStrip) while (e < end && char.IsWhiteSpace(text[e])) e++;
                    if (s > plain) output.Add((plain, s - plain, null));
                    output.Add((s, e - s, hit));
                    plain = i = e;
                    continue;
                }
            }
            i++;
        }
        if (plain < end) output.Add((plain, end - plain, null));
    }

    private static bool IsWordBoundary(string text, int s, int e, int start, int end)
    {
        static bool Word(char c) => char.IsLetterOrDigit(c) || c == '_';
        return (s == start || !Word(text[s - 1])) && (e == end || !Word(text[e]));
    }
}
