using AlignSharp.Feedback;
using AlignSharp.Models.Transformers;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;
using AlignSharp.Training.Online;

namespace AlignSharp.Training.Trainers;

/// <summary>
/// GRPO (<see cref="Grpo"/>) as TRL's GRPOTrainer runs it: a generation batch of per_device_train_batch_size ×
/// steps_per_generation completions (num_generations per prompt) is sampled from the current policy, scored by the
/// reward functions, turned into group-relative advantages, then trained on num_iterations times in micro-batches of
/// per_device_train_batch_size. The old log-probs of the ratio are the sampling log-probs (the same engine's, equal to
/// the training forward's: no extra forward pass) when a batch is reused (num_iterations &gt; 1, or steps_per_generation
/// &gt; gradient_accumulation_steps); otherwise the ratio is the current log-probs over themselves detached, as TRL.
/// </summary>
public sealed class GrpoTrainer : PolicyGradientTrainer
{
    private readonly GrpoOptions _options;

    /// <param name="reference">The reference model of the KL term (β &gt; 0 only; default: the policy's starting weights, see <see cref="ReferencePolicy.For"/>).</param>
    public GrpoTrainer(TrainingArguments args, TrainableModel model, IReadOnlyList<PromptRecord> prompts, ExampleTokenizer encoder, RewardFunctions rewards,
        GrpoOptions options, int skippedRows = 0, TransformerModel? reference = null)
        : base("grpo", Grpo.OptionsProblem(options), args, model, prompts, encoder, rewards, options, options.NumGenerations, options.Beta, skippedRows, reference)
    {
        _options = options;
        ReusesBatches = options.NumIterations > 1 || (options.StepsPerGeneration ?? args.GradientAccumulationSteps) > args.GradientAccumulationSteps;
    }

    /// <summary>Whether a generation batch is trained on after an update, so the ratio needs the sampling log-probs.</summary>
    private bool ReusesBatches { get; }

    protected override GenerationBatch Prepare(Rollout[] rollouts, RewardTable rewards)
    {
        int g = _options.NumGenerations;
        var scores = rewards.Weighted();
        if (_options.DynamicSampling) (rollouts, scores) = FillWithInformativeGroups(rollouts, scores);
        var advantages = Grpo.Advantages(scores, g, _options.ScaleRewards);
        var batch = new GenerationBatch(rollouts, rollouts.Length);
        batch.RowValues["advantages"] = advantages.Advantages;
        batch.RowValues["rewards"] = scores;
        // mask_truncated_completions: a completion cut at max_completion_length counts for nothing in the loss.
        batch.RowValues["loss_mask"] = LossMask(rollouts);
        if (Reference is not null) batch.TokenValues["ref_logps"] = Reference.PerTokenLogProbs(RowsOf(rollouts), _options.Temperature);
        batch.Metrics["frac_reward_zero_std"] = advantages.FracRewardZeroStd;
        batch.Metrics["generation/active_tokens"] = rollouts.Sum(r => r.CompletionIds.Length);
        return batch;
    }

    /// <summary>
    /// DAPO's dynamic sampling: groups whose rewards are all equal carry no signal, so they are dropped and more prompts
    /// are sampled (up to 4 extra rounds) until the batch is full again; if it never fills, the batch is smaller.
    /// </summary>
    private (Rollout[], float[]) FillWithInformativeGroups(Rollout[] rollouts, float[] scores)
    {
        int g = _options.NumGenerations, wanted = rollouts.Length / g;
        var keptRollouts = new List<Rollout>();
        var keptScores = new List<float>();
        void Keep(Rollout[] r, float[] s)
        {
            var groups = Grpo.Advantages(s, g, RewardScaling.None).ZeroStdGroups;
            for (int i = 0; i < groups.Length && keptRollouts.Count < wanted * g; i++)
                if (!groups[i]) { keptRollouts.AddRange(r.AsSpan(i * g, g)); keptScores.AddRange(s.AsSpan(i * g, g)); }
        }
        Keep(rollouts, scores);
        for (int round = 0; round < 4 && keptRollouts.Count < wanted * g; round++)
        {
            var (more, table) = SampleAndScore(wanted - keptRollouts.Count / g);
            Keep(more, table.Weighted());
        }
        return ([.. keptRollouts], [.. keptScores]);
    }

    protected override BatchLoss ComputeLoss(GenerationBatch batch, int[] rows, int iteration)
    {
        var rollouts = rows.Select(r => batch.Rollouts[r]).ToList();
        var forward = Forward(rollouts);
        int t = forward.T;
        var mask = MaskRows(forward, rows, batch.RowValues["loss_mask"]);
        float[]? old = ReusesBatches ? Padded(rollouts.Select(r => r.LogProbs).ToList(), t) : null;
        float[]? reference = Reference is null ? null : Padded(rows.Select(r => batch.TokenValues["ref_logps"][r]).ToList(), t);
        var advantages = rows.Select(r => batch.RowValues["advantages"][r]).ToArray();
        var scale = new GrpoLossScale(Args.GradientAccumulationSteps, (int)batch.Metrics["generation/active_tokens"]);
        var result = Grpo.Loss(forward.LogProbs, old, reference, advantages, mask, _options, scale, forward.Entropy);
        return new BatchLoss(result.Loss, result.Metrics, (long)mask.Sum());
    }
}
