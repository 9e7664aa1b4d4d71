using System.Globalization;
using System.Text.RegularExpressions;

namespace AlignSharp.Feedback.Judges;

/// <summary>Which written form a verdict was read from.</summary>
public enum VerdictFormat
{
    /// <summary>A tag: &lt;score&gt;4&lt;/score&gt;, &lt;answer&gt;Yes&lt;/answer&gt;.</summary>
    Tag,
    /// <summary>A JSON field: {"score": 4}, {"answer": "yes"}, {"winner": "A"}.</summary>
    Json,
    /// <summary>MT-Bench's double brackets: [[A]], [[B]], [[C]] (a tie).</summary>
    Bracketed,
    /// <summary>A labelled line: "Score: 4", "Total score = 4/5", "Answer: Yes", "The answer is (B)".</summary>
    Labelled,
    /// <summary>A fraction of the scale's top: "4/5", "4 out of 5".</summary>
    Fraction,
    /// <summary>The verdict alone or first: "4", "Yes, because…", "(A)", "Response B".</summary>
    Leading,
}

/// <summary>A verdict read from a judge's answer: the value, where it starts in the text and the form it was written in.</summary>
public readonly record struct ParsedVerdict<T>(T Value, int Index, VerdictFormat Format);

/// <summary>
/// Reads verdicts from judges' free-text answers without throwing: a score on a scale, yes/no, or a pairwise
/// preference. Forms are tried from the most explicit (tags, JSON, [[A]]) to the least (a leading word); within a
/// form the last occurrence wins, since judges reason first and conclude last. An answer in no known form, or a
/// score outside the scale, gives null — the caller records it as unparsable.
/// </summary>
public static class VerdictParser
{
    const RegexOptions Options = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant;
    const string Number = @"(?<value>\d+(?:\.\d+)?)";
    const string Open = @"[\s*""'(\[]*";  // markdown bold, quotes and brackets around a verdict

    static readonly Regex ScoreTag = new($@"<score>\s*{Number}\s*</score>", Options);
    static readonly Regex ScoreJson = new($@"""(?:score|rating|points)""\s*:\s*""?{Number}", Options);
    static readonly Regex ScoreLabelled = new($@"\b(?:score|rating|points|grade)\b[*\s]*(?:is|of|=|:)?[*\s]*{Number}(?:\s*(?:/|out\s+of)\s*(?<top>\d+))?", Options);
    static readonly Regex ScoreFraction = new($@"(?<![\d.]){Number}\s*(?:/|out\s+of)\s*(?<top>\d+)\b", Options);
    static readonly Regex ScoreAlone = new($@"^{Open}{Number}[\s*""'.)\]]*$", Options);

    static readonly Regex YesNoTag = new(@"<(?:answer|verdict)>\s*(?<value>yes|no)\b", Options);
    static readonly Regex YesNoJson = new(@"""(?:answer|verdict)""\s*:\s*""(?<value>yes|no)\b", Options);
    static readonly Regex YesNoLabelled = new($@"\b(?:answer|verdict)\b(?:\s+is\s*:?|\s*[:=\-]){Open}(?<value>yes|no)\b", Options);
    static readonly Regex YesNoLeading = new($@"^{Open}(?<value>yes|no)\b", Options);

    const string Letter = @"(?<value>(?-i:A|B)|tie)";
    static readonly Regex PreferenceBracketed = new(@"\[\[\s*(?<value>(?-i:A|B|C)|tie)\s*\]\]", Options);
    static readonly Regex PreferenceTag = new($@"<(?:answer|verdict)>{Open}{Letter}\b", Options);
    static readonly Regex PreferenceJson = new($@"""(?:answer|verdict|winner|preferred|choice)""\s*:\s*""{Open}{Letter}\b", Options);
    static readonly Regex PreferenceLabelled = new($@"\b(?:answer|verdict|winner|preferred|choice)\b(?:\s+is\s*:?|\s*[:=\-]){Open}(?:(?:response|assistant|option)\s+)?{Letter}(?![\w'])", Options);
    static readonly Regex PreferenceLeading = new($@"^{Open}(?:(?:response|assistant|option)\s+)?(?:(?<value>(?-i:A|B))(?=[ \t*""')\]]*(?:$|[.,:;!\r\n]|\s+(?:is|wins)\b))|(?<value>tie|equal(?:ly)?|neither)\b)", Options);

    /// <summary>
    /// A score in [<paramref name="min"/>, <paramref name="max"/>]: &lt;score&gt;4&lt;/score&gt;, {"score": 4},
    /// "Score: 4" (also "**Score:** 4", "Total score = 4/5"), "4/5" or "4 out of 5", or a lone number. A fraction's
    /// denominator must be <paramref name="max"/>; a score outside the scale is unparsable (null).
    /// </summary>
    public static ParsedVerdict<double>? Score(string answer, double min, double max)
    {
        foreach (var (regex, format) in new[] { (ScoreTag, VerdictFormat.Tag), (ScoreJson, VerdictFormat.Json), (ScoreLabelled, VerdictFormat.Labelled),
                     (ScoreFraction, VerdictFormat.Fraction), (ScoreAlone, VerdictFormat.Leading) })
        {
            var match = Last(regex, answer, m => !m.Groups["top"].Success || Value(m.Groups["top"].Value) == max);
            if (match is null) continue;
            double value = Value(match.Groups["value"].Value);
            return value >= min && value <= max ? new ParsedVerdict<double>(value, match.Groups["value"].Index, format) : null;
        }
        return null;
    }

    /// <summary>
    /// Yes (true) or no (false): &lt;answer&gt;Yes&lt;/answer&gt;, {"answer": "no"}, "Answer: Yes" / "The answer is
    /// no" (the last one), or yes/no as the first word ("Yes.", "**No**, because…"). "Not", "None", "Yesterday" are not verdicts.
    /// </summary>
    public static ParsedVerdict<bool>? YesNo(string answer)
    {
        foreach (var (regex, format) in new[] { (YesNoTag, VerdictFormat.Tag), (YesNoJson, VerdictFormat.Json), (YesNoLabelled, VerdictFormat.Labelled), (YesNoLeading, VerdictFormat.Leading) })
            if (Last(regex, answer) is { } match)
                return new ParsedVerdict<bool>(match.Groups["value"].Value.Equals("yes", StringComparison.OrdinalIgnoreCase), match.Groups["value"].Index, format);
        return null;
    }

    /// <summary>
    /// A, B or a tie: [[A]] / [[B]] / [[C]] (MT-Bench; C is a tie), &lt;answer&gt;A&lt;/answer&gt;, {"winner": "B"},
    /// "Answer: (A)" / "The verdict is B" / "Winner: tie", or the letter first ("A", "(B).", "Response A is better",
    /// "Tie"). The letters are upper case: "a" is an article. Never <see cref="PairwisePreference.Unparsable"/>: null instead.
    /// </summary>
    public static ParsedVerdict<PairwisePreference>? Preference(string answer)
    {
        foreach (var (regex, format) in new[] { (PreferenceBracketed, VerdictFormat.Bracketed), (PreferenceTag, VerdictFormat.Tag), (PreferenceJson, VerdictFormat.Json),
                     (PreferenceLabelled, VerdictFormat.Labelled), (PreferenceLeading, VerdictFormat.Leading) })
            if (Last(regex, answer) is { } match)
            {
                var g = match.Groups["value"];
                var value = g.Value switch
                {
                    "A" => PairwisePreference.A,
                    "B" => PairwisePreference.B,
                    _ => PairwisePreference.Tie,  // C, tie, equal, neither
                };
                return new ParsedVerdict<PairwisePreference>(value, g.Index, format);
            }
        return null;
    }

    static Match? Last(Regex regex, string text, Func<Match, bool>? accept = null)
    {
        Match? last = null;
        foreach (Match m in regex.Matches(text))
            if (accept is null || accept(m)) last = m;
        return last;
    }

    static double Value(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
}
