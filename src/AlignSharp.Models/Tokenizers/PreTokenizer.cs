using System.Text.Json;
using System.Text.RegularExpressions;

namespace AlignSharp.Models.Tokenizers;

/// <summary>
/// Splits a text segment into pieces that BPE encodes independently. Pieces are (start, length)
/// ranges of the segment; every pre-tokenizer here keeps all characters (no piece is dropped) except
/// Split with behaviour "Removed".
/// </summary>
public abstract class PreTokenizer
{
    /// <summary>Refines <paramref name="pieces"/> (ranges of <paramref name="text"/>) into <paramref name="output"/>.</summary>
    internal abstract void Split(string text, List<(int Start, int Length)> pieces, List<(int Start, int Length)> output);

    /// <summary>Whether a space is inserted before the segment when it does not start with one (ByteLevel add_prefix_space).</summary>
    internal virtual bool AddsPrefixSpace => false;

    internal abstract void Write(Utf8JsonWriter w);

    internal static PreTokenizer? FromJson(JsonElement e, string path, bool first = true)
    {
        if (e.ValueKind == JsonValueKind.Null) return null;
        string type = TokenizerJson.RequireString(e, "type", path);
        switch (type)
        {
            case "ByteLevel":
            {
                bool prefix = TokenizerJson.Bool(e, "add_prefix_space", false, path);
                if (prefix && !first)
                    throw new TokenizerException($"{path}.add_prefix_space: true is only supported on the first pre-tokenizer");
                return new ByteLevelPreTokenizer(prefix, TokenizerJson.Bool(e, "use_regex", true, path), TokenizerJson.Bool(e, "trim_offsets", true, path));
            }
            case "Split":
            {
                var pattern = TokenizerJson.Require(e, "pattern", path);
                string? regex = TokenizerJson.Optional(pattern, "Regex")?.GetString();
                string? literal = TokenizerJson.Optional(pattern, "String")?.GetString();
                if (regex is null && literal is null) throw new TokenizerException($"{path}.pattern: expected {{\"Regex\": ...}} or {{\"String\": ...}}");
                string behavior = TokenizerJson.RequireString(e, "behavior", path);
                if (behavior is not ("Isolated" or "Removed" or "MergedWithPrevious" or "MergedWithNext" or "Contiguous"))
                    throw new TokenizerException($"{path}.behavior: '{behavior}' is not one of Isolated, Removed, MergedWithPrevious, MergedWithNext, Contiguous");
                if (TokenizerJson.Bool(e, "invert", false, path))
                    throw new TokenizerException($"{path}.invert: true is not supported");
                return new SplitPreTokenizer(regex, literal, behavior);
            }
            case "Sequence":
                return new SequencePreTokenizer(TokenizerJson.RequireArray(e, "pretokenizers", path)
                    .Select((p, i) => TokenizerJson.NotNull(FromJson(p, $"{path}.pretokenizers[{i}]", first && i == 0), $"{path}.pretokenizers[{i}]")).ToArray());
            case "Digits":
                return new DigitsPreTokenizer(TokenizerJson.Bool(e, "individual_digits", false, path));
            default:
                throw new TokenizerException($"{path}.type: pre-tokenizer '{type}' is not supported (supported: ByteLevel, Split, Sequence, Digits)");
        }
    }
}

/// <summary>GPT-2's ByteLevel pre-tokenizer: optionally a prefix space, then (with use_regex) the GPT-2 split.</summary>
public sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex, bool trimOffsets) : PreTokenizer
{
    public bool UseRegex => useRegex;
    internal override bool AddsPrefixSpace => addPrefixSpace;

    internal override void Split(string text, List<(int Start, int Length)> pieces, List<(int Start, int Length)> output)
    {
        if (!useRegex) { output.AddRange(pieces); return; }
        foreach (var (start, length) in pieces) SplitPatterns.Gpt2.Split(text, start, start + length, output);
    }

    internal override void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", addPrefixSpace);
        w.WriteBoolean("trim_offsets", trimOffsets);
        w.WriteBoolean("use_regex", useRegex);
        w.WriteEndObject();
    }
}

/// <summary>
/// Split by a regex or a literal. The byte-level families' regexes run on hand-written code-point
/// matchers (<see cref="SplitPatterns"/>); any other regex runs on .NET's engine, which sees UTF-16 code
/// units, so \p{L} does not match letters outside the BMP there.
/// </summary>
public sealed class SplitPreTokenizer : PreTokenizer
{
    private readonly string? _regex, _literal;
    private readonly string _behavior;
    private readonly SplitPatterns? _known;
    private readonly Regex? _engine;

    private static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(2);

    public SplitPreTokenizer(string? regex, string? literal, string behavior)
    {
        _regex = regex; _literal = literal; _behavior = behavior;
        if (regex is not null)
        {
            _known = behavior == "Isolated" ? SplitPatterns.ForRegex(regex) : null;
            if (_known is null)
            {
                // A timeout, because a pattern read from a file can backtrack catastrophically (e.g. "(a+)+b").
                try { _engine = new Regex(regex, RegexOptions.CultureInvariant, MatchTimeout); }
                catch (ArgumentException e) { throw new TokenizerException($"pre_tokenizer Split: the regex '{regex}' is not valid: {e.Message}"); }
            }
        }
    }

    internal override void Split(string text, List<(int Start, int Length)> pieces, List<(int Start, int Length)> output)
    {
        foreach (var (start, length) in pieces)
        {
            if (_known is not null) { _known.Split(text, start, start + length, output); continue; }
            var matches = new List<(int, int)>();
            if (_engine is not null)
            {
                try
                {
                    for (var m = _engine.Match(text, start, length); m.Success; m = m.NextMatch())
                        if (m.Length > 0) matches.Add((m.Index, m.Length));
                }
                catch (RegexMatchTimeoutException)
                {
                    throw new TokenizerException($"pre_tokenizer Split: the regex '{_regex}' took over {MatchTimeout.TotalSeconds:0} s on a {length}-character piece (catastrophic backtracking); fix the pattern");
                }
            }
            else if (_literal!.Length > 0)
            {
                for (int i = text.IndexOf(_literal, start, length, StringComparison.Ordinal); i >= 0;
                     i = i + _literal.Length < start + length ? text.IndexOf(_literal, i + _literal.Length, start + length - i - _literal.Length, StringComparison.Ordinal) : -1)
                    matches.Add((i, _literal.Length));
            }
            Apply(start, start + length, matches, output);
        }
    }

    /// <summary>Turns matches inside [start, end) into pieces according to the split behaviour.</summary>
    private void Apply(int start, int end, List<(int Start, int Length)> matches, List<(int Start, int Length)> output)
    {
        int pos = start;
        int pendingStart = -1; // MergedWithNext: a match waiting for the text after it
        bool lastWasMatch = false; // Contiguous: consecutive matches join into one piece
        foreach (var (ms, ml) in matches)
        {
            switch (_behavior)
            {
                case "Removed":
                    if (ms > pos) output.Add((pos, ms - pos));
                    break;
                case "Isolated":
                    if (ms > pos) output.Add((pos, ms - pos));
                    output.Add((ms, ml));
                    break;
                case "MergedWithPrevious":
                    output.Add((pos, ms + ml - pos));
                    break;
                case "MergedWithNext":
                    if (pendingStart >= 0) { output.Add((pendingStart, ms - pendingStart)); }
                    else if (ms > pos) output.Add((pos, ms - pos));
                    pendingStart = ms;
                    break;
                case "Contiguous":
                    if (ms > pos) { output.Add((pos, ms - pos)); lastWasMatch = false; }
                    if (lastWasMatch) output[^1] = (output[^1].Start, output[^1].Length + ml);
                    else output.Add((ms, ml));
                    lastWasMatch = true;
                    break;
            }
            pos = ms + ml;
        }
        if (pendingStart >= 0) output.Add((pendingStart, end - pendingStart));
        else if (pos < end) output.Add((pos, end - pos));
    }

    internal override void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("type", "Split");
        w.WriteStartObject("pattern");
        if (_regex is not null) w.WriteString("Regex", _regex); else w.WriteString("String", _literal);
        w.WriteEndObject();
        w.WriteString("behavior", _behavior);
        w.WriteBoolean("invert", false);
        w.WriteEndObject();
    }
}

/// <summary>Digits: splits runs of digits from other characters (each digit alone with individual_digits).</summary>
public sealed class DigitsPreTokenizer(bool individualDigits) : PreTokenizer
{
    internal override void Split(string text, List<(int Start, int Length)> pieces, List<(int Start, int Length)> output)
    {
        foreach (var (start, length) in pieces)
        {
            int i = start, end = start + length;
            while (i < end)
            {
                bool digit = char.IsAsciiDigit(text[i]) || char.IsDigit(text[i]);
                int j = i + 1;
                if (!digit || !individualDigits)
                    while (j < end && (char.IsDigit(text[j])) == digit) j++;
                output.Add((i, j - i));
                i = j;
            }
        }
    }

    internal override void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject(); w.WriteString("type", "Digits"); w.WriteBoolean("individual_digits", individualDigits); w.WriteEndObject();
    }
}

/// <summary>Applies pre-tokenizers one after the other, each refining the previous one's pieces.</summary>
public sealed class SequencePreTokenizer(PreTokenizer[] items) : PreTokenizer
{
    internal override bool AddsPrefixSpace => items.Length > 0 && items[0].AddsPrefixSpace;

    internal override void Split(string text, List<(int Start, int Length)> pieces, List<(int Start, int Length)> output)
    {
        var current = pieces;
        for (int n = 0; n < items.Length; n++)
        {
            var next = n == items.Length - 1 ? output : new List<(int, int)>();
            items[n].Split(text, current, next);
            current = next;
        }
        if (items.Length == 0) output.AddRange(pieces);
    }

    internal override void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject(); w.WriteString("type", "Sequence");
        w.WriteStartArray("pretokenizers");
        foreach (var p in items) p.Write(w);
        w.WriteEndArray(); w.WriteEndObject();
    }
}
