using AlignSharp.Feedback;
using AlignSharp.Models.Transformers;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;
using AlignSharp.Training.Online;

namespace AlignSharp.Training.Trainers;

/// <summary>
/// REINFORCE++ (<see cref="ReinforcePlusPlus"/>) as OpenRLHF's advantage_estimator "reinforce" runs it, on the same
/// generation-batch loop as <see cref="GrpoTrainer"/>: completions are sampled from the current policy and scored;
/// every completion token gets the reward −β·(log π_old − log π_ref) and the last one the score as well; the returns
/// (reverse cumulative sums) are whitened over every completion token of the generation batch; the batch is trained on
/// num_iterations times with the token-level clipped ratio, a masked token mean per micro-batch. π_old is always the
/// sampling log-probs (the same engine's, equal to the training forward's on the sampling weights), as OpenRLHF's
/// experiences keep the rollout's action log-probs.
/// Metrics beyond the loss's: "kl" (mean per-token k1 over the batch, when β &gt; 0), "advantages/return_mean" and
/// "advantages/return_std" (of the returns before whitening).
/// </summary>
public sealed class ReinforcePlusPlusTrainer : PolicyGradientTrainer
{
    private readonly ReinforcePlusPlusOptions _options;

    /// <param name="reference">The reference model of the KL penalty (β &gt; 0 only; default: the policy's starting weights, see <see cref="ReferencePolicy.For"/>).</param>
    public ReinforcePlusPlusTrainer(TrainingArguments args, TrainableModel model, IReadOnlyList<PromptRecord> prompts, ExampleTokenizer encoder, RewardFunctions rewards,
        ReinforcePlusPlusOptions options, int skippedRows = 0, TransformerModel? reference = null)
        : base("reinforce_pp", ReinforcePlusPlus.OptionsProblem(options), args, model, prompts, encoder, rewards, options, options.NumGenerations, options.Beta, skippedRows, reference) =>
        _options = options;

    protected override GenerationBatch Prepare(Rollout[] rollouts, RewardTable rewards)
    {
        var scores = rewards.Weighted();
        var lossMask = LossMask(rollouts);
        var reference = Reference?.PerTokenLogProbs(RowsOf(rollouts), _options.Temperature);
        var (old, refs, mask, t) = PaddedTokens(rollouts, reference, lossMask);
        var advantages = ReinforcePlusPlus.Advantages(scores, old, reference is null ? null : refs, mask, _options);

        var batch = new GenerationBatch(rollouts, rollouts.Length);
        batch.TokenValues["advantages"] = rollouts.Select((r, i) => advantages.Advantages.AsSpan(i * t, r.CompletionIds.Length).ToArray()).ToArray();
        batch.RowValues["rewards"] = scores;
        batch.RowValues["loss_mask"] = lossMask;
        batch.Metrics["advantages/return_mean"] = advantages.Mean;
        batch.Metrics["advantages/return_std"] = advantages.Std;
        if (reference is not null) batch.Metrics["kl"] = MeanK1(old, refs, mask);
        return batch;
    }

    protected override BatchLoss ComputeLoss(GenerationBatch batch, int[] rows, int iteration)
    {
        var rollouts = rows.Select(r => batch.Rollouts[r]).ToList();
        var forward = Forward(rollouts);
        var mask = MaskRows(forward, rows, batch.RowValues["loss_mask"]);
        var old = Padded(rollouts.Select(r => r.LogProbs).ToList(), forward.T);
        var advantages = Padded(rows.Select(r => batch.TokenValues["advantages"][r]).ToList(), forward.T);
        var result = ReinforcePlusPlus.Loss(forward.LogProbs, old, advantages, mask, _options, forward.Entropy);
        return new BatchLoss(result.Loss, result.Metrics, (long)mask.Sum());
    }
}
