namespace AlignSharp.Feedback;

/// <summary>
/// One principle of a constitution.
/// </summary>
/// <param name="Id">Unique id, the key in <see cref="FeedbackLabel.Parts"/> and <see cref="Provenance.PrincipleId"/>.</param>
/// <param name="Text">The principle in plain language, for LLM judges.</param>
/// <param name="Check">The programmatic check that scores it (a key of the constitution's checks); null for a principle with text only, which a judge scores.</param>
/// <param name="Weight">Its weight in the constitution's weighted mean (positive).</param>
/// <param name="AppliesTo">Prompt categories it applies to; empty means every category.</param>
/// <param name="Origin">Where it was defined ("constitution.yaml:12"), for error messages.</param>
/// <param name="Scorer">Who scores it: its check when it has one, else a judge (auto, the default); or always the judge, or always the check.</param>
public sealed record Principle(string Id, string Text, string? Check, double Weight, IReadOnlyList<string> AppliesTo, string Origin,
    PrincipleScorer Scorer = PrincipleScorer.Auto)
{
    public bool AppliesToCategory(string category) =>
        AppliesTo.Count == 0 || AppliesTo.Contains(category, StringComparer.OrdinalIgnoreCase);
}

/// <summary>Who scores a principle (<c>scorer:</c> in a constitution file, printed lower case).</summary>
public enum PrincipleScorer
{
    /// <summary>Its programmatic check when it has one (unless the constitution or the pipeline says judge_checks), else the judge.</summary>
    Auto,
    /// <summary>The judge, even when it has a check.</summary>
    Judge,
    /// <summary>Its check, even when the constitution or the pipeline says judge_checks.</summary>
    Check,
}
