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
public sealed class GrpoTrainer : OnlineTrainer
{
    private readonly GrpoOptions _options;
    private readonly ReferencePolicy? _reference;

    /// <param name="reference">The reference model of the KL term (β &gt; 0 only; default: the policy's starting weights, see <see cref="ReferencePolicy.For"/>).</param>
    public GrpoTrainer(TrainingArguments args, TrainableModel model, IReadOnlyList<PromptRecord> prompts, ExampleTokenizer encoder, RewardFunctions rewards,
        GrpoOptions options, int skippedRows = 0, TransformerModel? reference = null)
        : base(args, model, prompts, encoder, rewards, skippedRows)
    {
        if (Grpo.OptionsProblem(options) is { } problem) throw new TrainingException($"grpo: {problem}");
        if (rewards.Functions.Count == 0) throw new TrainingException("grpo: no reward functions; name at least one in reward_funcs");
        int steps = options.StepsPerGeneration ?? args.GradientAccumulationSteps;
        int generationBatch = args.PerDeviceTrainBatchSize * steps;
        if (generationBatch % options.NumGenerations != 0)
            throw new TrainingException($"grpo: the generation batch (per_device_train_batch_size {args.PerDeviceTrainBatchSize} × steps_per_generation {steps} = {generationBatch}) must be a multiple of num_generations {options.NumGenerations}");
        _options = options;
        if (options.Beta != 0f) _reference = ReferencePolicy.For(model, reference);
        Plan = new RolloutPlan(generationBatch / options.NumGenerations, options.NumGenerations, options.NumIterations, generationBatch, new SamplingOptions
        {
            MaxNewTokens = options.MaxCompletionLength, Temperature = options.Temperature, TopP = options.TopP, TopK = options.TopK,
        });
        ReusesBatches = options.NumIterations > 1 || steps > args.GradientAccumulationSteps;
    }

    protected override RolloutPlan Plan { get; }

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
        batch.RowValues["loss_mask"] = rollouts.Select(r => _options.MaskTruncatedCompletions && r.Finish == FinishReason.Length ? 0f : 1f).ToArray();
        if (_reference is not null) batch.TokenValues["ref_logps"] = _reference.PerTokenLogProbs(RowsOf(rollouts), _options.Temperature);
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
        var mask = (float[])forward.Mask.Clone();
        var rowMask = batch.RowValues["loss_mask"];
        for (int b = 0; b < rows.Length; b++)
            if (rowMask[rows[b]] == 0f) mask.AsSpan(b * t, t).Clear();
        float[]? old = ReusesBatches ? Padded(rollouts.Select(r => r.LogProbs).ToList(), t) : null;
        float[]? reference = _reference is null ? null : Padded(rows.Select(r => batch.TokenValues["ref_logps"][r]).ToList(), t);
        var advantages = rows.Select(r => batch.RowValues["advantages"][r]).ToArray();
        var scale = new GrpoLossScale(Args.GradientAccumulationSteps, (int)batch.Metrics["generation/active_tokens"]);
        var result = Grpo.Loss(forward.LogProbs, old, reference, advantages, mask, _options, scale, forward.Entropy);
        return new BatchLoss(result.Loss, result.Metrics, (long)mask.Sum());
    }

    public override void Dispose()
    {
        _reference?.Dispose();
        base.Dispose();
    }
}
