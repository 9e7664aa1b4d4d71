namespace AlignSharp.Feedback;

/// <summary>
/// Where a label came from, stored whole beside it so a label can be audited, reproduced or cached: which source
/// (and its fingerprint: name, settings, version), which kind, which principle, which judge model, which prompt
/// template (and the hash of its text), which seed, and when and how long it took. Fields that do not apply stay null.
/// </summary>
/// <param name="Source">The <see cref="ISignalSource.Name"/> that produced the label.</param>
/// <param name="Kind">Verifier, principle, judge or composite.</param>
/// <param name="PrincipleId">The principle id(s), comma-separated when several principles contributed.</param>
/// <param name="Model">The judge model, for model-based sources.</param>
/// <param name="PromptTemplate">The judge prompt template's id, for model-based sources.</param>
/// <param name="Seed">The sampling seed, for stochastic sources.</param>
/// <param name="Inputs">For composites: the provenance of each contributing label, in order.</param>
/// <param name="Fingerprint">The source's <see cref="ISignalSource.Fingerprint"/> when the label was made.</param>
/// <param name="TemplateHash">SHA-256 (hex, 16 chars) of the judge prompt template's text, for model-based sources.</param>
/// <param name="CreatedAt">When the label was made (UTC).</param>
/// <param name="ElapsedMs">How long scoring took, in milliseconds.</param>
public sealed record Provenance(
    string Source,
    SignalKind Kind,
    string? PrincipleId = null,
    string? Model = null,
    string? PromptTemplate = null,
    long? Seed = null,
    IReadOnlyList<Provenance>? Inputs = null,
    string? Fingerprint = null,
    string? TemplateHash = null,
    DateTimeOffset? CreatedAt = null,
    double? ElapsedMs = null);
