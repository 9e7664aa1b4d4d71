using System.Globalization;
using System.Text.RegularExpressions;

namespace AlignSharp.Feedback.Verifiers;

/// <summary>
/// A verifiable reward (RLVR, Lambert et al. 2024, "Tülu 3"; TRL's accuracy reward functions): checks the response
/// against the prompt's expected answer, the <c>"answer"</c> metadata (a prompt-only dataset's "answer" column).
/// Applies when the prompt has a non-empty answer (null otherwise). Scores 1 when the response gives it first, else 0:
/// a numeric answer ("42", "-3.5", "1,234") must equal the first number in the response ("So 42." is 1, "6 * 7 = 42"
/// is 0); any other answer must equal the response's first words, case-insensitive, punctuation ignored ("Paris." and
/// "paris is" match "Paris"; "The capital is Paris" does not). Prompts should ask for the answer first.
/// </summary>
public sealed class ExactAnswerVerifier : ISignalSource
{
    /// <summary>The metadata key that holds the expected answer.</summary>
    public const string AnswerKey = "answer";

    // A minus counts only when not glued to a word ("x-5" is 5, "-5" is −5); separators only in groups of three.
    static readonly Regex Number = new(@"(?:(?<!\w)-)?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?",
        RegexOptions.CultureInvariant | RegexOptions.Compiled);

    static readonly Regex Word = new(@"[\p{L}\p{N}]+", RegexOptions.CultureInvariant | RegexOptions.Compiled);

    public string Name => "exact_answer";

    /// <summary>Bump the version when the check changes, so cached labels of the old check are not reused.</summary>
    public string Fingerprint => SignalFingerprint.Of(Name, 1);

    public FeedbackLabel? Score(PromptRecord prompt, string response)
    {
        if (prompt.Get(AnswerKey)?.Trim() is not { Length: > 0 } answer) return null;
        var provenance = new Provenance(Name, SignalKind.Verifier);
        if (ParseNumber(answer) is { } expected)
        {
            if (FirstNumber(response) is not { } found) return new FeedbackLabel(0, $"expected {answer}, found no number", provenance);
            bool equal = found.Value == expected;
            return new FeedbackLabel(equal ? 1 : 0, $"first number {found.Text} {(equal ? "equals" : "differs from")} the answer {answer}", provenance);
        }
        var words = Words(answer);
        if (words.Length == 0) return null;
        var first = Words(response).Take(words.Length).ToArray();
        bool match = first.SequenceEqual(words, StringComparer.OrdinalIgnoreCase);
        string said = first.Length == 0 ? "no words" : $"\"{string.Join(' ', first)}\"";
        return new FeedbackLabel(match ? 1 : 0, $"starts with {said}, {(match ? "the" : "not the")} answer \"{answer}\"", provenance);
    }

    /// <summary>
    /// The first number in <paramref name="text"/> and how it was written, or null when there is none. Numbers are
    /// integers or decimals with an optional leading minus and optional thousands separators ("1,234.5"); "42." reads
    /// as 42 and "4 2" as 4.
    /// </summary>
    public static (decimal Value, string Text)? FirstNumber(string text)
    {
        foreach (Match m in Number.Matches(text))
            if (Parse(m.Value) is { } value) return (value, m.Value);
        return null;
    }

    /// <summary>The value when the whole text is one number (surrounding spaces allowed), else null.</summary>
    public static decimal? ParseNumber(string text)
    {
        var trimmed = text.Trim();
        var m = Number.Match(trimmed);
        return m.Success && m.Index == 0 && m.Length == trimmed.Length ? Parse(trimmed) : null;
    }

    static decimal? Parse(string s) =>
        decimal.TryParse(s.Replace(",", ""), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var v) ? v : null;

    static string[] Words(string text) => Word.Matches(text).Select(m => m.Value).ToArray();
}
