// PPO for RLHF: the trainer around Ppo.cs (papers and the TRL commit followed are named there).
// As TRL's experimental PPOTrainer: one completion per prompt, scored by the reward functions; the rollout's log-probs
// (the sampler's, equal to the training forward's), the reference's and the critic's values fixed for the batch; then
// num_ppo_epochs passes over it in a fresh shuffle each, one optimizer step per minibatch. Ours: a completion that no
// reward function applies to is left out of the batch (not scored 0); num_mini_batches multiplies the rollout batch
// (each minibatch is per_device_train_batch_size × gradient_accumulation_steps rollouts and one optimizer step, as in
// Huang et al. 2024), where TRL splits its batch of that size and its accelerator still steps once per
// gradient_accumulation_steps micro-batches; objective/entropy sums −log π over the completion tokens only (TRL's sum
// also counts −INVALID_LOGPROB on every padding column).
using AlignSharp.Feedback;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;
using AlignSharp.Training.Online;

namespace AlignSharp.Training.Trainers;

/// <summary>
/// PPO (<see cref="Ppo"/>) on a policy and its critic (<see cref="PolicyAndValue"/>): each rollout batch of
/// per_device_train_batch_size × gradient_accumulation_steps × num_mini_batches prompts is sampled from the current
/// policy, scored, turned into per-token KL-penalised rewards, GAE advantages (whitened over the batch) and returns,
/// then trained on num_ppo_epochs times; with adaptive_kl the KL coefficient follows Ziegler et al.'s controller after
/// every batch (its value is saved in checkpoints).
/// </summary>
public sealed class PpoTrainer : OnlineTrainer
{
    /// <summary>The checkpoint file holding the KL coefficient (float bits).</summary>
    public const string StateFileName = "ppo_state.bin";

    private readonly PpoOptions _options;
    private readonly PolicyAndValue _model;
    private readonly ReferencePolicy _reference;
    private readonly AdaptiveKlController _kl;

    /// <param name="model">The policy and critic to train; options.ValueModel must name its critic's kind.</param>
    /// <param name="rewards">The reward functions (e.g. a reward model folder as a signal source); the caller owns the sources.</param>
    /// <param name="reference">The reference of the KL penalty (default: the policy's starting weights, see <see cref="ReferencePolicy.For"/>).</param>
    public PpoTrainer(TrainingArguments args, PolicyAndValue model, IReadOnlyList<PromptRecord> prompts, ExampleTokenizer encoder, RewardFunctions rewards,
        PpoOptions options, int skippedRows = 0, TransformerModel? reference = null)
        : base(args, model, prompts, encoder, rewards, skippedRows)
    {
        if (Ppo.OptionsProblem(options) is { } problem) throw new TrainingException($"ppo: {problem}");
        if (rewards.Functions.Count == 0) throw new TrainingException("ppo: no reward functions; name at least one in reward_funcs (e.g. the reward model)");
        if (options.ValueModel != model.Kind)
            throw new TrainingException($"ppo: value_model is {ConfigName(options.ValueModel)} but the model was built with a {ConfigName(model.Kind)} critic; build PolicyAndValue to match");
        _options = options;
        _model = model;
        _reference = ReferencePolicy.For(model.Policy, reference);
        _kl = new AdaptiveKlController(options.KlCoef, options.KlTarget, options.KlHorizon);
        int rollouts = args.PerDeviceTrainBatchSize * args.GradientAccumulationSteps * options.NumMiniBatches;
        Plan = new RolloutPlan(rollouts, 1, options.NumPpoEpochs, rollouts, new SamplingOptions
        {
            MaxNewTokens = options.MaxCompletionLength, Temperature = options.Temperature, TopP = 1f, TopK = 0,
        });
    }

    protected override RolloutPlan Plan { get; }
    protected override bool ReshuffleEachIteration => true;

    /// <summary>The KL coefficient the next rollout batch's rewards use.</summary>
    public float KlCoef => _kl.Value;

    private static string ConfigName(ValueModelKind kind) => kind == ValueModelKind.Separate ? "separate" : "shared";

    protected override GenerationBatch Prepare(Rollout[] rollouts, RewardTable rewards)
    {
        var allScores = rewards.Weighted();
        var kept = Enumerable.Range(0, rollouts.Length).Where(i => !float.IsNaN(allScores[i])).ToArray();
        var batch = new GenerationBatch(kept.Select(i => rollouts[i]).ToArray(), kept.Length);
        batch.Metrics["frac_reward_not_applicable"] = 1.0 - kept.Length / (double)rollouts.Length;
        if (kept.Length == 0) return batch;

        var rows = RowsOf(batch.Rollouts);
        int b = rows.Count, t = Columns(batch);
        var mask = Mask(batch.Rollouts, t);
        if (mask.Sum() < 2) throw new TrainingException("ppo: the rollout batch has fewer than 2 completion tokens, too few to whiten the advantages; raise per_device_train_batch_size or max_completion_length");
        var logps = Padded(batch.Rollouts.Select(r => r.LogProbs).ToList(), t);
        var refLogps = Padded(_reference.PerTokenLogProbs(rows, _options.Temperature), t);
        var values = new float[b * t];
        using (Autograd.NoGrad())
            for (int start = 0; start < b; start += Args.PerDeviceTrainBatchSize)
            {
                using var scope = new TensorScope();
                var chunk = Enumerable.Range(start, Math.Min(Args.PerDeviceTrainBatchSize, b - start)).ToArray();
                var chunkRows = chunk.Select(i => rows[i]).ToList();
                var chunkValues = _model.Kind == ValueModelKind.Shared ? ForwardValues(chunkRows, t, entropy: false).Values : _model.Values(chunkRows, t);
                chunkValues.ToArray().CopyTo(values, start * t);
            }

        var scores = kept.Select(i => allScores[i]).ToArray();
        var containsEos = batch.Rollouts.Select(r => r.Finish == FinishReason.Stop).ToArray();
        float klCoef = _kl.Value;
        var targets = Ppo.Targets(scores, containsEos, logps, refLogps, values, mask, b, t, _options, klCoef);
        batch.TokenValues["advantages"] = Rows(targets.Advantages, b, t);
        batch.TokenValues["returns"] = Rows(targets.Returns, b, t);
        batch.TokenValues["values"] = Rows(targets.Values, b, t);

        // TRL's objective metrics: per-completion sums over tokens, averaged over the batch.
        double kl = targets.MeanKl(b), entropy = 0;
        for (int i = 0; i < b * t; i++) entropy -= logps[i] * mask[i];
        batch.Metrics["objective/kl"] = kl;
        batch.Metrics["objective/entropy"] = entropy / b;
        batch.Metrics["objective/non_score_reward"] = -klCoef * kl;
        batch.Metrics["objective/scores"] = targets.Scores.Average(x => (double)x);
        batch.Metrics["objective/rlhf_reward"] = -klCoef * kl + targets.Scores.Average(x => (double)x);
        batch.Metrics["val/num_eos_tokens"] = containsEos.Count(x => x);
        batch.Metrics["kl_coef"] = klCoef;
        if (_options.AdaptiveKl) _kl.Update(kl, b);
        return batch;
    }

    protected override BatchLoss ComputeLoss(GenerationBatch batch, int[] rows, int iteration)
    {
        var rollouts = rows.Select(r => batch.Rollouts[r]).ToList();
        int t = Columns(batch), b = rows.Length;
        var (logps, values, entropy, forwardColumns) = ForwardValues(RowsOf(rollouts), t, entropy: true);
        var mask = Mask(rollouts, t);
        var result = Ppo.Loss(logps, Padded(rollouts.Select(r => r.LogProbs).ToList(), t),
            Padded(rows.Select(r => batch.TokenValues["advantages"][r]).ToList(), t), values,
            Padded(rows.Select(r => batch.TokenValues["values"][r]).ToList(), t),
            Padded(rows.Select(r => batch.TokenValues["returns"][r]).ToList(), t), mask, _options, Fit(entropy, b, forwardColumns, t));
        var metrics = new Dictionary<string, float>(result.Metrics);
        if (OnSamplingWeights)
        {
            // The rollout/training log-prob guarantee (the base's Forward measures it for the other methods).
            var current = logps.ToArray();
            float deviation = 0f;
            for (int i = 0; i < b; i++)
                for (int j = 0; j < rollouts[i].LogProbs.Length; j++) deviation = MathF.Max(deviation, MathF.Abs(current[i * t + j] - rollouts[i].LogProbs[j]));
            RecordSamplingDeviation(deviation);
        }
        return new BatchLoss(result.Loss, metrics, (long)mask.Sum());
    }

    /// <summary>
    /// One policy forward (and the critic's, when separate) over <paramref name="rows"/>: log-probs [B, T] and values
    /// [B, T] on <paramref name="t"/> columns (TRL's T, the rollout batch's longest completion). Each completion gets
    /// one placeholder token more, so the forward also reaches column |completion| (read at the completion's last
    /// token), where TRL still trains the value; the placeholder's log-prob is never used.
    /// </summary>
    private (Tensor LogProbs, Tensor Values, float[]? Entropy, int ForwardColumns) ForwardValues(IReadOnlyList<CompletionRow> rows, int t, bool entropy)
    {
        var extended = rows.Select(r => new CompletionRow(r.PromptIds, [.. r.CompletionIds, 0])).ToList();
        bool shared = _model.Kind == ValueModelKind.Shared;
        var forward = CompletionLogProbs.Compute(_model.Transformer, extended, _options.Temperature, entropy: entropy, keepHidden: shared);
        var logps = FitColumns(forward.LogProbs, forward.T, t);
        var values = shared ? FitColumns(_model.Values(extended, forward.T, forward.Hidden), forward.T, t) : _model.Values(rows, t);
        return (logps, values, forward.Entropy, forward.T);
    }

    /// <summary>[B, from] → [B, to]: the first columns, or zero columns appended.</summary>
    private static Tensor FitColumns(Tensor x, int from, int to) =>
        from == to ? x : from > to ? Ops.Narrow(x, 1, 0, to) : Ops.Concat([x, Tensor.Zeros(x.Dim(0), to - from)], 1);

    private static float[]? Fit(float[]? x, int b, int from, int to)
    {
        if (x is null) return null;
        var result = new float[b * to];
        for (int i = 0; i < b; i++) x.AsSpan(i * from, Math.Min(from, to)).CopyTo(result.AsSpan(i * to));
        return result;
    }

    /// <summary>TRL's T: the longest completion of the rollout batch (at least 1).</summary>
    private static int Columns(GenerationBatch batch) => Math.Max(1, batch.Rollouts.Max(r => r.CompletionIds.Length));

    private static float[] Mask(IReadOnlyList<Rollout> rollouts, int t)
    {
        var mask = new float[rollouts.Count * t];
        for (int i = 0; i < rollouts.Count; i++) mask.AsSpan(i * t, rollouts[i].CompletionIds.Length).Fill(1f);
        return mask;
    }

    private static float[][] Rows(float[] values, int b, int t) => Enumerable.Range(0, b).Select(i => values.AsSpan(i * t, t).ToArray()).ToArray();

    private sealed record PpoState(object? Online, float KlCoef);

    protected override object? CaptureExtraState() => new PpoState(base.CaptureExtraState(), _kl.Value);

    protected override void SaveExtraState(object state, string folder)
    {
        var s = (PpoState)state;
        if (s.Online is not null) base.SaveExtraState(s.Online, folder);
        File.WriteAllBytes(Path.Combine(folder, StateFileName), BitConverter.GetBytes(s.KlCoef));
    }

    protected override void RestoreExtraState(string folder)
    {
        base.RestoreExtraState(folder);
        string path = Path.Combine(folder, StateFileName);
        if (!File.Exists(path)) throw new TrainingException($"{folder}: no {StateFileName} (the KL coefficient of a PPO run); resume with the method that wrote this checkpoint, or start over with overwrite_output_dir: true");
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length != sizeof(float)) throw new TrainingException($"{path}: {bytes.Length} bytes, expected {sizeof(float)}; delete this checkpoint folder to resume from the one before");
        _kl.Value = BitConverter.ToSingle(bytes);
    }

    public override void Dispose()
    {
        _reference.Dispose();
        base.Dispose();
    }
}
