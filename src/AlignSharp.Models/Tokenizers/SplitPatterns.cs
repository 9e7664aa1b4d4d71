namespace AlignSharp.Models.Tokenizers;

/// <summary>
/// Hand-written matchers for the pre-tokenizer regexes of the byte-level BPE families, equivalent to
/// the regexes under leftmost-first alternation with backtracking, but working on code points and
/// without a regex engine (both faster and exact for characters outside the BMP):
/// <list type="bullet">
/// <item>GPT-2: <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c></item>
/// <item>Llama-3 (cl100k): <c>(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</c></item>
/// <item>Qwen2: the Llama-3 regex with <c>\p{N}</c> (single digits) in place of <c>\p{N}{1,3}</c>.</item>
/// </list>
/// </summary>
internal sealed class SplitPatterns
{
    public const string Gpt2Regex = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    public const string Llama3Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    public const string Qwen2Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private readonly bool _gpt2;
    private readonly int _maxDigits;

    private SplitPatterns(bool gpt2, int maxDigits) { _gpt2 = gpt2; _maxDigits = maxDigits; }

    public static readonly SplitPatterns Gpt2 = new(true, int.MaxValue);

    /// <summary>The matcher for a known regex, or null.</summary>
    public static SplitPatterns? ForRegex(string regex) => regex switch
    {
        Gpt2Regex => Gpt2,
        Llama3Regex => new SplitPatterns(false, 3),
        Qwen2Regex => new SplitPatterns(false, 1),
        _ => null,
    };

    /// <summary>Appends the matches in text[start, end) (which cover it completely) as (start, length).</summary>
    public void Split(string text, int start, int end, List<(int Start, int Length)> pieces)
    {
        int i = start;
        while (i < end)
        {
            int next = _gpt2 ? MatchGpt2(text, i, end) : MatchCl100k(text, i, end);
            pieces.Add((i, next - i));
            i = next;
        }
    }

    /// <summary>Length of a contraction ('s 't 're 've 'm 'll 'd) at i, or 0.</summary>
    private static int Contraction(string text, int i, int end, bool ignoreCase)
    {
        if (text[i] != '\'' || i + 1 >= end) return 0;
        char a = text[i + 1], b = i + 2 < end ? text[i + 2] : '\0';
        if (ignoreCase) { a = AsciiLower(a); b = AsciiLower(b); }
        if (a is 's' or 't' or 'm' or 'd') return 2;
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
        return 0;
    }

    private static char AsciiLower(char c) => c is >= 'A' and <= 'Z' ? (char)(c + 32) : c;

    /// <summary>End of the run of class <paramref name="cls"/> starting at i.</summary>
    private static int Run(string text, int i, int end, byte cls)
    {
        while (i < end && CharClass.At(text, i, out int len) == cls) i += len;
        return i;
    }

    private static int MatchGpt2(string text, int i, int end)
    {
        int c = Contraction(text, i, end, ignoreCase: false);
        if (c > 0) return i + c;
        byte cls = CharClass.At(text, i, out int len);
        // ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+': an optional space, then a run of one class.
        int j = i;
        if (text[i] == ' ' && i + 1 < end)
        {
            byte nextCls = CharClass.At(text, i + 1, out _);
            if (nextCls != CharClass.Space) { j = i + 1; cls = nextCls; }
        }
        if (cls != CharClass.Space) return Run(text, j, end, cls);
        return WhitespaceTail(text, i, end);
    }

    private int MatchCl100k(string text, int i, int end)
    {
        int c = Contraction(text, i, end, ignoreCase: true);
        if (c > 0) return i + c;
        byte cls = CharClass.At(text, i, out int len);
        char ch = text[i];
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (cls == CharClass.Letter) return Run(text, i, end, CharClass.Letter);
        if (cls != CharClass.Number && ch != '\r' && ch != '\n' && i + len < end && CharClass.At(text, i + len, out _) == CharClass.Letter)
            return Run(text, i + len, end, CharClass.Letter);
        // \p{N}{1,maxDigits}
        if (cls == CharClass.Number)
        {
            int j = i, n = 0;
            while (j < end && n < _maxDigits && CharClass.At(text, j, out int l) == CharClass.Number) { j += l; n++; }
            return j;
        }
        // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        int k = i;
        if (ch == ' ' && i + 1 < end && CharClass.At(text, i + 1, out _) == CharClass.Other) k = i + 1;
        if (CharClass.At(text, k, out _) == CharClass.Other)
        {
            k = Run(text, k, end, CharClass.Other);
            while (k < end && text[k] is '\r' or '\n') k++;
            return k;
        }
        // Whitespace: '\s*[\r\n]+' ends at the last line break of the run, when the run has one.
        int runEnd = Run(text, i, end, CharClass.Space);
        for (int p = runEnd - 1; p >= i; p--)
            if (text[p] is '\r' or '\n') return p + 1;
        return WhitespaceTail(text, i, end, runEnd);
    }

    /// <summary>'\s+(?!\S)|\s+' at i: the whitespace run, less its last character when a non-space follows (and the run is longer than one).</summary>
    private static int WhitespaceTail(string text, int i, int end, int runEnd = -1)
    {
        if (runEnd < 0) runEnd = Run(text, i, end, CharClass.Space);
        if (runEnd >= end) return runEnd;
        // Followed by a non-space: give back the last whitespace code point if something remains.
        int last = runEnd - 1;
        if (char.IsLowSurrogate(text[last]) && last - 1 >= i) last--;
        return last > i ? last : runEnd;
    }
}
