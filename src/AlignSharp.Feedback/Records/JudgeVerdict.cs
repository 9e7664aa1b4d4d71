namespace AlignSharp.Feedback;

/// <summary>Which of two responses a pairwise judge preferred.</summary>
public enum PairwisePreference
{
    /// <summary>The first response (A).</summary>
    A,
    /// <summary>The second response (B).</summary>
    B,
    /// <summary>Neither: the judge called it even.</summary>
    Tie,
    /// <summary>The judge's answer could not be read as a verdict (recorded, not thrown).</summary>
    Unparsable,
}

/// <summary>
/// A pairwise judgement, "which of these two responses is better, and why?" (LLM-as-a-judge, Zheng et al. 2023; the
/// soft label of Constitutional AI's RL stage, Bai et al. 2022, when the verdict tokens' probabilities are known).
/// </summary>
/// <param name="Preferred">A, B, a tie, or unparsable.</param>
/// <param name="ProbabilityA">P(A is better), from the verdict tokens' normalised probabilities or averaged over both orders; null when unknown.</param>
/// <param name="Rationale">The judge's reasoning, or what was found.</param>
/// <param name="Provenance">Which judge, model, principle, template, seed and timing.</param>
/// <param name="Confidence">The judge's own confidence in [0, 1], when it gives one.</param>
public sealed record JudgeVerdict(PairwisePreference Preferred, double? ProbabilityA, string Rationale, Provenance Provenance, double? Confidence = null);
