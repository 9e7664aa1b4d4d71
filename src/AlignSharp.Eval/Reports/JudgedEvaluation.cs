using AlignSharp.Feedback.Store;

namespace AlignSharp.Eval.Reports;

/// <summary>The evaluation as the judge sees it (harmful compliance and over-refusal from judge labels), and how well it agrees with the world's checks.</summary>
/// <param name="Judge">Where the judge ran.</param>
/// <param name="Principles">The principles the judge scored (the other metrics come from the checks in both tables).</param>
/// <param name="Rows">One row per evaluated model, as <see cref="LoopResult.Rows"/>, with the judged metrics from judge labels.</param>
/// <param name="Agreement">Per judged principle: the judge against the world's check on every evaluated response (accuracy, Cohen's κ).</param>
public sealed record JudgedEvaluation(string Judge, IReadOnlyList<string> Principles, IReadOnlyList<EvalRow> Rows, IReadOnlyList<SourceAgreement> Agreement);
