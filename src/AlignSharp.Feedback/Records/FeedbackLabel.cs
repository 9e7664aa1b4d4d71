namespace AlignSharp.Feedback;

/// <summary>
/// The one record every signal source returns: how good a response is to a prompt (higher is better; each source
/// documents its range, the built-in ones use [0, 1]), why, and where the judgement came from.
/// </summary>
/// <param name="Score">Higher is better. Meaningless (0) when <paramref name="Unparsable"/>.</param>
/// <param name="Rationale">One human-readable line saying what was found.</param>
/// <param name="Provenance">Which source, principle, model, template, seed and timing produced it.</param>
/// <param name="Parts">Optional breakdown (principle id or source name → score) for composite and multi-principle sources.</param>
/// <param name="Unparsable">
/// A judge answered but its answer could not be read as a verdict. The label is kept (the feedback store stores it,
/// so the judge is not asked again, with the raw answer in <paramref name="Rationale"/>), but it carries no score:
/// pair builders, compositions and agreement statistics skip it as they skip "does not apply" (null). Use
/// <see cref="FeedbackLabelExtensions.IsScored"/> to test for a usable score.
/// </param>
public sealed record FeedbackLabel(double Score, string Rationale, Provenance Provenance, IReadOnlyDictionary<string, double>? Parts = null, bool Unparsable = false)
{
    /// <summary>An unparsable outcome of <paramref name="provenance"/>'s judge: score 0 (meaningless), the raw answer in the rationale.</summary>
    public static FeedbackLabel UnparsableAnswer(string rawAnswer, Provenance provenance) =>
        new(0, $"unparsable: {rawAnswer}", provenance, null, Unparsable: true);
}

/// <summary>Tests on labels that callers would otherwise spell out everywhere.</summary>
public static class FeedbackLabelExtensions
{
    /// <summary>True when the label exists and carries a score (it applies and, for a judge, its answer was readable).</summary>
    public static bool IsScored(this FeedbackLabel? label) => label is { Unparsable: false };
}
