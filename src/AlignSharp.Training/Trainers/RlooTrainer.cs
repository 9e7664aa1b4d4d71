using AlignSharp.Feedback;
using AlignSharp.Models.Transformers;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;
using AlignSharp.Training.Online;

namespace AlignSharp.Training.Trainers;

/// <summary>
/// RLOO (<see cref="Rloo"/>) as TRL's RLOOTrainer runs it: a generation batch of per_device_train_batch_size ×
/// steps_per_generation completions (num_generations per prompt) is sampled from the current policy and scored; each
/// reward is penalised by β·Σ_t(log π_old − log π_ref) over its completion, the leave-one-out baseline of its group is
/// subtracted (then optionally whitened over the batch), and the batch is trained on num_iterations times in
/// micro-batches with the clipped ratio of the summed sequence log-probs. π_old is always the sampling log-probs (the
/// same engine's, equal to the training forward's on the sampling weights), as TRL's RLOOTrainer always computes
/// old_per_token_logps: the ratio stays right even when a generation batch spans an optimizer step.
/// Metrics beyond the loss's: TRL's "kl" (mean per-token k1 over the batch's completion tokens, when β &gt; 0) and
/// "frac_reward_zero_std".
/// </summary>
public sealed class RlooTrainer : PolicyGradientTrainer
{
    private readonly RlooOptions _options;

    /// <param name="reference">The reference model of the KL penalty (β &gt; 0 only; default: the policy's starting weights, see <see cref="ReferencePolicy.For"/>).</param>
    public RlooTrainer(TrainingArguments args, TrainableModel model, IReadOnlyList<PromptRecord> prompts, ExampleTokenizer encoder, RewardFunctions rewards,
        RlooOptions options, int skippedRows = 0, TransformerModel? reference = null)
        : base("rloo", Rloo.OptionsProblem(options), args, model, prompts, encoder, rewards, options, options.NumGenerations, options.Beta, skippedRows, reference) =>
        _options = options;

    protected override GenerationBatch Prepare(Rollout[] rollouts, RewardTable rewards)
    {
        var scores = rewards.Weighted();
        var lossMask = LossMask(rollouts);
        float[]? kl = null;
        var batch = new GenerationBatch(rollouts, rollouts.Length);
        if (Reference is not null)
        {
            var (old, refs, mask, t) = PaddedTokens(rollouts, Reference.PerTokenLogProbs(RowsOf(rollouts), _options.Temperature), lossMask);
            kl = Rloo.SequenceKl(old, refs, mask, t);
            batch.Metrics["kl"] = MeanK1(old, refs, mask);
        }
        var advantages = Rloo.Advantages(scores, kl, _options.NumGenerations, _options.Beta, _options.NormalizeAdvantages);
        batch.RowValues["advantages"] = advantages.Advantages;
        batch.RowValues["rewards"] = advantages.Rewards;
        batch.RowValues["loss_mask"] = lossMask;
        batch.Metrics["frac_reward_zero_std"] = advantages.FracRewardZeroStd;
        return batch;
    }

    protected override BatchLoss ComputeLoss(GenerationBatch batch, int[] rows, int iteration)
    {
        var rollouts = rows.Select(r => batch.Rollouts[r]).ToList();
        var forward = Forward(rollouts);
        var mask = MaskRows(forward, rows, batch.RowValues["loss_mask"]);
        var old = Padded(rollouts.Select(r => r.LogProbs).ToList(), forward.T);
        var advantages = rows.Select(r => batch.RowValues["advantages"][r]).ToArray();
        var result = Rloo.Loss(forward.LogProbs, old, advantages, mask, _options, forward.Entropy);
        return new BatchLoss(result.Loss, result.Metrics, (long)mask.Sum());
    }
}
