using AlignSharp.Feedback;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Data;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Eval;

/// <summary>
/// Sequence-level KL estimate of a policy π to a reference π_ref from the policy's own samples:
/// KL(π ‖ π_ref) ≈ (1/N) Σₙ [log π(yₙ|xₙ) − log π_ref(yₙ|xₙ)], yₙ ∼ π(·|xₙ) (the k1 estimator of Schulman 2020,
/// "Approximating KL divergence", summed over the completion's tokens). log π comes from the sampling log-probs the
/// rollouts carry (temperature-1 samples), log π_ref from one no-grad forward pass of the reference over the exact
/// sampled tokens. Unbiased; a single sample can be negative, the mean over many is not in expectation.
/// </summary>
public static class SequenceKl
{
    /// <summary>The mean over <paramref name="rollouts"/> (an empty completion contributes 0), in nats.</summary>
    /// <param name="rollouts">Temperature-1 samples of the policy, with their sampling log-probs.</param>
    /// <param name="reference">The reference model (same tokenizer as the policy).</param>
    public static double Estimate(IReadOnlyList<Rollout> rollouts, TransformerModel reference)
    {
        if (rollouts.Count == 0) throw new EvalException("KL estimate: no samples");
        double total = 0;
        using var noGrad = Autograd.NoGrad();
        foreach (var r in rollouts)
        {
            if (r.CompletionIds.Length == 0) continue;
            var ids = r.PromptIds.Concat(r.CompletionIds).ToArray();
            var labels = Enumerable.Repeat(Ops.IgnoreIndex, r.PromptIds.Length).Concat(r.CompletionIds).ToArray();
            var batch = new Batch(ids, labels, Enumerable.Repeat(1f, ids.Length).ToArray(), 1, ids.Length);
            using var scope = new TensorScope();
            double referenceLogProb = SequenceLogProbs.Compute(reference, batch).Sums.ToArray()[0];
            total += r.SumLogProb - referenceLogProb;
        }
        return total / rollouts.Count;
    }
}
