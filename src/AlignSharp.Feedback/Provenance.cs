namespace AlignSharp.Feedback;

/// <summary>
/// Where a label came from, stored beside it so a label can be audited or reproduced: which source, which kind,
/// which principle, which judge model, which prompt template and seed. Fields that do not apply stay null.
/// </summary>
/// <param name="Source">The <see cref="ISignalSource.Name"/> that produced the label.</param>
/// <param name="Kind">Verifier, principle, judge or composite.</param>
/// <param name="PrincipleId">The principle id(s), comma-separated when several principles contributed.</param>
/// <param name="Model">The judge model, for model-based sources.</param>
/// <param name="PromptTemplate">The judge prompt template (or its id), for model-based sources.</param>
/// <param name="Seed">The sampling seed, for stochastic sources.</param>
/// <param name="Inputs">For composites: the provenance of each contributing label, in order.</param>
public sealed record Provenance(
    string Source,
    SignalKind Kind,
    string? PrincipleId = null,
    string? Model = null,
    string? PromptTemplate = null,
    int? Seed = null,
    IReadOnlyList<Provenance>? Inputs = null);
