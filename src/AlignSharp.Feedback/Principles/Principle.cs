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
public sealed record Principle(string Id, string Text, string? Check, double Weight, IReadOnlyList<string> AppliesTo, string Origin)
{
    public bool AppliesToCategory(string category) =>
        AppliesTo.Count == 0 || AppliesTo.Contains(category, StringComparer.OrdinalIgnoreCase);
}
