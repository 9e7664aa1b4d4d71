using System.ComponentModel;

namespace AlignSharp.Training.Methods;

/// <summary>How DPO gets its reference log-probabilities (TRL's DPOConfig.precompute_ref_log_probs), beside <see cref="Trainers.DpoOptions"/>.</summary>
public sealed record ReferenceOptions
{
    /// <summary>
    /// Compute every pair's reference log-probabilities once before training and free the reference model; otherwise
    /// they are computed per batch. Default false, as TRL.
    /// </summary>
    [Description("compute the reference model's log-probabilities once before training and free the reference model")]
    public bool PrecomputeRefLogProbs { get; init; }
}
