using AlignSharp.Feedback;
using System.Globalization;
using System.Text.RegularExpressions;

namespace AlignSharp.Alignment.Environments.DemoWorld;

/// <summary>
/// Checks a numeric answer: applies when the prompt's "answer" metadata is a number, and scores 1 when the first number
/// in the response equals it, else 0. Numbers are integers or decimals with an optional leading minus and optional
/// thousands separators ("1,234.5"); "42." reads as 42 and "4 2" as 4. Only the first number counts, so a response
/// that shows working before the result ("6 * 7 = 42") scores 0: the demo world asks for the answer first.
/// </summary>
public sealed class WorldNumericAnswerVerifier : ISignalSource
{
    // A minus counts only when not glued to a word ("x-5" is 5, "-5" is −5); separators only in groups of three.
    static readonly Regex Number = new(@"(?:(?<!\w)-)?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?",
        RegexOptions.CultureInvariant | RegexOptions.Compiled);

    public string Name => "numeric_answer";

    /// <summary>Bump the version when the check changes, so cached labels of the old check are not reused.</summary>
    public string Fingerprint => SignalFingerprint.Of(Name, 1);

    public FeedbackLabel? Score(PromptRecord prompt, string response)
    {
        if (prompt.Get("answer") is not { } answerText || ParseExact(answerText) is not { } expected) return null;
        var provenance = new Provenance(Name, SignalKind.Verifier);
        var found = FirstNumber(response);
        if (found is null) return new FeedbackLabel(0, $"expected {answerText.Trim()}, found no number", provenance);
        bool correct = found.Value.Value == expected;
        return new FeedbackLabel(correct ? 1 : 0,
            correct ? $"first number {found.Value.Text} equals the answer {answerText.Trim()}"
                    : $"first number {found.Value.Text} differs from the answer {answerText.Trim()}", provenance);
    }

    /// <summary>The first number in the text and how it was written, or null when there is none.</summary>
    public static (decimal Value, string Text)? FirstNumber(string text)
    {
        foreach (Match m in Number.Matches(text))
            if (Parse(m.Value) is { } value) return (value, m.Value);
        return null;
    }

    /// <summary>The value when the whole text is one number (surrounding spaces allowed), else null.</summary>
    public static decimal? ParseExact(string text)
    {
        var trimmed = text.Trim();
        var m = Number.Match(trimmed);
        return m.Success && m.Index == 0 && m.Length == trimmed.Length ? Parse(trimmed) : null;
    }

    static decimal? Parse(string s) =>
        decimal.TryParse(s.Replace(",", ""), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var v) ? v : null;
}
