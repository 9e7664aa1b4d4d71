using System.Diagnostics;
using AlignSharp.Feedback;
using AlignSharp.Tensors;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;

namespace AlignSharp.Training.Online;

/// <summary>
/// How an online method samples: prompts per generation batch, completions per prompt, how many times the batch is
/// trained on (num_iterations, or PPO's epochs), the training rows it yields (for counting steps) and the sampling
/// options (max_completion_length, temperature, top_p, top_k).
/// </summary>
public sealed record RolloutPlan(int PromptsPerGeneration, int NumGenerations, int Iterations, int TrainingRows, SamplingOptions Sampling);

/// <summary>
/// The loop every online trainer shares, on top of <see cref="Trainer"/> (optimizer, accumulation, clipping, schedule,
/// NaN guard, checkpoints, metrics): when a generation batch is due, the next prompts of the seeded data order are
/// sampled from the current policy (the same engine that trains it, so the sampling log-probs are the training
/// forward's), every completion is scored by the reward functions, and the method prepares the batch (advantages,
/// reference log-probs, values). Micro-batches of per_device_train_batch_size rows are then taken from it in a seeded
/// shuffled order, <see cref="RolloutPlan.Iterations"/> times over. A checkpoint keeps the current generation batch
/// and where the run is in it (bit for bit), so a resumed run continues exactly as an uninterrupted one and never
/// scores a completion twice.
/// </summary>
/// <remarks>
/// Metrics logged with every step: the method's loss metrics, the generation's (TRL's names: reward, reward_std,
/// rewards/NAME/mean and /std, completions/mean_length, completions/clipped_ratio, ...), timing/generate, timing/score
/// and timing/prepare (seconds per generation batch), and sampling/logp_max_deviation: the largest |training forward −
/// sampling| log-prob over the tokens trained on before the first update after sampling (0: one engine; LoRA dropout,
/// if any, adds to it).
/// </remarks>
public abstract class OnlineTrainer : Trainer
{
    private readonly IReadOnlyList<PromptRecord> _prompts;
    private readonly Dictionary<string, float> _forwardMetrics = new(StringComparer.Ordinal);
    private GenerationBatch? _batch;
    private long _generations;  // generation batches prepared so far
    private long _sampleCalls;  // sampler calls so far (each has its own seed)
    private int _micro;         // micro-batches taken from _batch
    private int _iteration;     // the pass over _batch the current micro-batch belongs to
    private long _step;         // the optimizer step being made
    private long _generatedAt;  // the optimizer step during which _batch was sampled
    private DataOrder? _order;
    private double _generateSeconds, _scoreSeconds;

    /// <param name="prompts">The prompts to sample (a prompt-only dataset, or a pipeline's prompts).</param>
    /// <param name="encoder">The policy's tokenizer and chat template (prompts are rendered with it).</param>
    /// <param name="rewards">The reward functions; the caller owns the sources.</param>
    protected OnlineTrainer(TrainingArguments args, TrainableModel model, IReadOnlyList<PromptRecord> prompts, ExampleTokenizer encoder,
        RewardFunctions rewards, int skippedRows = 0) : base(args, model)
    {
        _prompts = prompts;
        Encoder = encoder;
        Rewards = rewards;
        SkippedRows = skippedRows;
        Sampler = new PolicySampler(model.Transformer, encoder, string.IsNullOrEmpty(args.Model) ? null : Path.GetFileName(Path.TrimEndingDirectorySeparator(args.Model)));
    }

    protected ExampleTokenizer Encoder { get; }
    protected RewardFunctions Rewards { get; }
    protected PolicySampler Sampler { get; }

    /// <summary>The method's sampling plan (checked and fixed for the run).</summary>
    protected abstract RolloutPlan Plan { get; }

    /// <summary>
    /// Turns scored rollouts (prompt-major groups of <see cref="RolloutPlan.NumGenerations"/>) into a generation batch:
    /// advantages, reference log-probs, values. May call <see cref="SampleAndScore"/> for more (dynamic sampling).
    /// A batch with no training rows is sampled again.
    /// </summary>
    protected abstract GenerationBatch Prepare(Rollout[] rollouts, RewardTable rewards);

    /// <summary>
    /// Whether the batch being prepared is the last try to get one with something to train on (a method may then accept
    /// what it would otherwise send back for resampling, rather than stop the run).
    /// </summary>
    protected bool LastGenerationAttempt { get; private set; }

    /// <summary>The loss of rows <paramref name="rows"/> of <paramref name="batch"/> on pass <paramref name="iteration"/> over it (0 = the first).</summary>
    protected abstract BatchLoss ComputeLoss(GenerationBatch batch, int[] rows, int iteration);

    /// <summary>Whether each pass over a batch takes its rows in a new order (PPO's epochs) or the first pass's (TRL's GRPO buffer).</summary>
    protected virtual bool ReshuffleEachIteration => false;

    protected override int ExampleCount => _prompts.Count;

    /// <summary>max_steps if set, else num_train_epochs over the prompts: ⌈generations × micro-batches per generation ÷ accumulation⌉.</summary>
    public override long TotalSteps
    {
        get
        {
            if (Args.MaxSteps > 0) return Args.MaxSteps;
            var plan = Plan;
            long generationsPerEpoch = (long)Math.Ceiling(ExampleCount / (double)plan.PromptsPerGeneration);
            long microPerGeneration = (long)plan.Iterations * ChunksOf(plan.TrainingRows);
            return Math.Max(1, (long)Math.Ceiling(generationsPerEpoch * microPerGeneration * Args.NumTrainEpochs / (double)Args.GradientAccumulationSteps));
        }
    }

    private int ChunksOf(int rows) => Math.Max(1, (rows + Args.PerDeviceTrainBatchSize - 1) / Args.PerDeviceTrainBatchSize);

    protected sealed override int[] NextMicroBatch(DataOrder order, long step, int micro)
    {
        _order = order;
        _step = step;
        if (_batch is null || _micro >= Plan.Iterations * ChunksOf(_batch.Rows)) { _batch = Generate(); _micro = 0; _generatedAt = step; }
        int chunks = ChunksOf(_batch.Rows), bs = Args.PerDeviceTrainBatchSize;
        _iteration = _micro / chunks;
        int chunk = _micro % chunks;
        _micro++;
        var rowOrder = DataOrder.Permutation(_batch.Rows, (int)((Args.Seed + (ulong)_generations * 7919UL) & 0x7FFFFFFF), ReshuffleEachIteration ? _iteration : 0);
        return rowOrder.AsSpan(chunk * bs, Math.Min(bs, _batch.Rows - chunk * bs)).ToArray();
    }

    protected sealed override BatchLoss ComputeLoss(int[] examples)
    {
        var batch = _batch ?? throw new InvalidOperationException("no generation batch: online trainers compute losses only inside Train");
        _forwardMetrics.Clear();
        var result = ComputeLoss(batch, examples, _iteration);
        var metrics = new Dictionary<string, float>(StringComparer.Ordinal);
        foreach (var (k, v) in batch.Metrics) metrics[k] = (float)v;
        foreach (var (k, v) in result.Metrics) metrics[k] = v;
        foreach (var (k, v) in _forwardMetrics) metrics[k] = v;
        return new BatchLoss(result.Loss, metrics, result.Tokens);
    }

    /// <summary>
    /// Samples <see cref="RolloutPlan.NumGenerations"/> completions for each of the next <paramref name="promptCount"/>
    /// prompts of the data order from the current policy and scores them; each call has its own seed (from seed and
    /// the call's number, restored on resume).
    /// </summary>
    protected (Rollout[] Rollouts, RewardTable Rewards) SampleAndScore(int promptCount)
    {
        var order = _order ?? throw new InvalidOperationException("sampling happens only inside Train");
        var plan = Plan;
        // Always a whole generation batch: the last prompts of an epoch are topped up from the next one, so a batch
        // never ends short and spills into the next optimizer step (where its ratio would no longer start at 1).
        var picked = new List<int>(promptCount);
        while (picked.Count < promptCount) picked.AddRange(order.NextBatch(promptCount - picked.Count));
        var prompts = picked.Select(i => _prompts[i]).ToList();
        ulong seed = Args.Seed + (ulong)(++_sampleCalls) * 0x9E3779B97F4A7C15UL;
        var clock = Stopwatch.StartNew();
        var rollouts = Sampler.Sample(prompts, plan.NumGenerations, plan.Sampling, seed).SelectMany(g => g).ToArray();
        _generateSeconds += clock.Elapsed.TotalSeconds;
        clock.Restart();
        var table = Rewards.ScoreAsync(rollouts).GetAwaiter().GetResult();
        _scoreSeconds += clock.Elapsed.TotalSeconds;
        return (rollouts, table);
    }

    private GenerationBatch Generate()
    {
        const int attempts = 8;
        for (int attempt = 0; attempt < attempts; attempt++)
        {
            LastGenerationAttempt = attempt == attempts - 1;
            _generateSeconds = _scoreSeconds = 0;
            var (rollouts, table) = SampleAndScore(Plan.PromptsPerGeneration);
            var clock = Stopwatch.StartNew();
            var batch = Prepare(rollouts, table);
            double prepareSeconds = clock.Elapsed.TotalSeconds;
            if (batch.Rows == 0) continue;
            AddGenerationMetrics(batch, table);
            batch.Metrics["timing/generate"] = _generateSeconds;
            batch.Metrics["timing/score"] = _scoreSeconds;
            batch.Metrics["timing/prepare"] = prepareSeconds;
            _generations++;
            return batch;
        }
        throw new TrainingException($"{attempts} generation batches in a row left nothing to train on (every group's rewards were equal, with dynamic_sampling, or every completion was masked); check the reward functions on these prompts, or raise num_generations or temperature");
    }

    /// <summary>Completion lengths, truncation and the reward table's metrics, with TRL's names.</summary>
    private static void AddGenerationMetrics(GenerationBatch batch, RewardTable table)
    {
        var lengths = batch.Rollouts.Select(r => (double)r.CompletionIds.Length).ToArray();
        var terminated = batch.Rollouts.Where(r => r.Finish == FinishReason.Stop).Select(r => (double)r.CompletionIds.Length).ToArray();
        batch.Metrics["completions/mean_length"] = lengths.Average();
        batch.Metrics["completions/min_length"] = lengths.Min();
        batch.Metrics["completions/max_length"] = lengths.Max();
        batch.Metrics["completions/clipped_ratio"] = 1.0 - terminated.Length / (double)lengths.Length;
        batch.Metrics["completions/mean_terminated_length"] = terminated.Length == 0 ? 0 : terminated.Average();
        foreach (var (k, v) in table.Metrics()) batch.Metrics.TryAdd(k, v);
    }

    /// <summary>The sampled prompt + completion token rows of <paramref name="rollouts"/>.</summary>
    protected static IReadOnlyList<CompletionRow> RowsOf(IEnumerable<Rollout> rollouts) => rollouts.Select(CompletionRow.Of).ToList();

    /// <summary>
    /// The training forward of the policy over <paramref name="rollouts"/>' exact tokens, at the sampling temperature
    /// unless <paramref name="temperature"/> says otherwise. In the optimizer step that sampled the batch (the weights
    /// still those that sampled it), at the sampling temperature, it also records sampling/logp_max_deviation.
    /// </summary>
    protected CompletionForward Forward(IReadOnlyList<Rollout> rollouts, bool entropy = true, bool keepHidden = false, float? temperature = null)
    {
        float t = temperature ?? Plan.Sampling.Temperature;
        var forward = CompletionLogProbs.Compute(Model.Transformer, rollouts, t, entropy: entropy, keepHidden: keepHidden);
        if (OnSamplingWeights && t == Plan.Sampling.Temperature) RecordSamplingDeviation(CompletionLogProbs.MaxDeviation(forward, rollouts));
        return forward;
    }

    /// <summary>
    /// Whether the policy still has the weights that sampled the current batch (the optimizer step that sampled it):
    /// only then is a training forward's difference from the sampling log-probs a measure of the engine, not of training.
    /// </summary>
    protected bool OnSamplingWeights => _step == _generatedAt;

    /// <summary>
    /// Records a training forward's largest |log-prob − sampling log-prob| as sampling/logp_max_deviation (for a forward
    /// a method runs itself, like PPO's policy-and-value pass); call it only while <see cref="OnSamplingWeights"/>.
    /// </summary>
    protected void RecordSamplingDeviation(float deviation) =>
        _forwardMetrics["sampling/logp_max_deviation"] = Math.Max(_forwardMetrics.GetValueOrDefault("sampling/logp_max_deviation"), deviation);

    /// <summary>Per-token values of rows padded into [B·T] (0 past each row's end), as <see cref="CompletionForward.Mask"/> lays them out.</summary>
    protected static float[] Padded(IReadOnlyList<float[]> rows, int t)
    {
        var output = new float[rows.Count * t];
        for (int b = 0; b < rows.Count; b++) rows[b].AsSpan(0, Math.Min(t, rows[b].Length)).CopyTo(output.AsSpan(b * t));
        return output;
    }

    private sealed record OnlineState(GenerationBatch? Batch, long Generations, long SampleCalls, int Micro);

    /// <summary>The checkpoint file that keeps the generation batch and the position in it.</summary>
    public const string StateFile = "online_state.bin";

    protected override object? CaptureExtraState() => new OnlineState(_batch, _generations, _sampleCalls, _micro);

    protected override void SaveExtraState(object state, string folder)
    {
        var s = (OnlineState)state;
        using var w = new BinaryWriter(File.Create(Path.Combine(folder, StateFile)));
        w.Write(s.Generations); w.Write(s.SampleCalls); w.Write(s.Micro);
        w.Write(s.Batch is not null);
        s.Batch?.Save(w);
    }

    protected override void RestoreExtraState(string folder)
    {
        string path = Path.Combine(folder, StateFile);
        if (!File.Exists(path)) throw new TrainingException($"{folder}: no {StateFile} (the checkpoint was not written by an online trainer); resume the run with the method that wrote it, or start over with overwrite_output_dir: true");
        using var r = new BinaryReader(File.OpenRead(path));
        try
        {
            _generations = r.ReadInt64(); _sampleCalls = r.ReadInt64(); _micro = r.ReadInt32();
            _batch = r.ReadBoolean() ? GenerationBatch.Load(r, path) : null;
        }
        catch (EndOfStreamException) { throw new TrainingException($"{path}: cut short; delete this checkpoint folder to resume from the one before"); }
    }
}
