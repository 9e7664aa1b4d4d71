using System.Diagnostics;
using AlignSharp.Tensors;
using AlignSharp.Training.Optim;

namespace AlignSharp.Training.Core;

/// <summary>Progress after each optimizer step, for progress bars and logs.</summary>
public sealed record TrainingProgress(long Step, long TotalSteps, int Epoch, IReadOnlyDictionary<string, double> Metrics, TimeSpan Elapsed);

/// <summary>A batch's mean loss (with gradients), the metrics to log for it, and how many tokens it trained on.</summary>
public sealed record BatchLoss(Tensor Loss, IReadOnlyDictionary<string, float> Metrics, long Tokens);

/// <summary>What a finished run reports.</summary>
public sealed record TrainingResult(long Steps, double FinalLoss, string OutputDir, int SkippedRows);

/// <summary>
/// The loop every trainer shares: seeded data order, gradient accumulation, global-norm clipping, the
/// learning-rate schedule, the optimizer, metrics, atomic checkpoints every save_steps and at the end, and
/// resume. A method supplies only <see cref="ComputeLoss"/> over a batch of example indices.
/// A NaN or infinite loss stops the run with a clear message; the last good checkpoint stays on disk.
/// </summary>
public abstract class Trainer : IDisposable
{
    protected TrainingArguments Args { get; }
    protected TrainableModel Model { get; }
    private readonly Optimizer _optimizer;
    private readonly List<Action<long, IReadOnlyDictionary<string, double>>> _sinks = new();

    /// <summary>Called after each optimizer step.</summary>
    public event Action<TrainingProgress>? Progress;

    /// <summary>Rows the dataset reader skipped (skip_bad_rows).</summary>
    protected int SkippedRows { get; set; }

    protected Trainer(TrainingArguments args, TrainableModel model)
    {
        Args = args.Validate();
        Model = model;
        var trainable = model.Trainable.Select(t => new TrainableParameter(t.Name, t.Tensor, TrainableParameter.DefaultDecay(t.Name, t.Tensor))).ToList();
        foreach (var t in trainable) t.Tensor.RequiresGrad = true;
        _optimizer = args.Optim == "sgd"
            ? new Sgd(trainable, 0f, args.WeightDecay)
            : new AdamW(trainable, new AdamWOptions(args.AdamBeta1, args.AdamBeta2, args.AdamEpsilon, args.WeightDecay));
    }

    /// <summary>Number of training examples.</summary>
    protected abstract int ExampleCount { get; }

    /// <summary>The mean loss over the given examples (with gradients) and the metrics to log for them.</summary>
    protected abstract BatchLoss ComputeLoss(int[] examples);

    /// <summary>The training objective on the given examples, without updating anything (for evaluation and tests).</summary>
    public double Evaluate(int[] examples)
    {
        using var noGrad = Autograd.NoGrad();
        using var scope = new TensorScope();
        return ComputeLoss(examples).Loss.Item();
    }

    /// <summary>Adds a metrics destination (called at each logging step with averaged metrics).</summary>
    public void AddMetricsSink(Action<long, IReadOnlyDictionary<string, double>> sink) => _sinks.Add(sink);

    public long TotalSteps
    {
        get
        {
            if (Args.MaxSteps > 0) return Args.MaxSteps;
            long perEpoch = (long)Math.Ceiling(ExampleCount / (double)(Args.PerDeviceTrainBatchSize * Args.GradientAccumulationSteps));
            return Math.Max(1, perEpoch * Args.NumTrainEpochs);
        }
    }

    public TrainingResult Train(CancellationToken cancellationToken = default)
    {
        if (ExampleCount == 0) throw new TrainingException($"{Args.Dataset}: no usable examples");
        Directory.CreateDirectory(Args.OutputDir);
        long total = TotalSteps;
        int warmup = Args.WarmupSteps > 0 ? Args.WarmupSteps : (int)Math.Ceiling(Args.WarmupRatio * total);
        var schedule = new LearningRateSchedule(Args.LrSchedulerType, Args.LearningRate, warmup, (int)total).Validate();
        long step = 0;
        double lastLoss = double.NaN;
        var start = Data.DataPosition.Start;
        if (Args.Resume && Checkpoints.Latest(Args.OutputDir) is { } resumeFrom)
        {
            var state = Checkpoints.Restore(resumeFrom, Model, _optimizer, out var rngs);
            foreach (var (name, rng) in Model.Generators)
                if (rngs.TryGetValue(name, out var saved)) rng.SetState(saved);
            (step, lastLoss, start) = (state.GlobalStep, state.LastLoss, new Data.DataPosition(state.Epoch, state.Position));
        }
        var order = new Data.DataOrder(ExampleCount, (int)(Args.Seed & 0x7FFFFFFF), shuffle: true, start);

        var sums = new Dictionary<string, double>();
        int logged = 0;
        var clock = Stopwatch.StartNew();
        long tokensSinceLog = 0;
        while (step < total)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var stepMetrics = new Dictionary<string, double>();
            double stepLoss = 0;
            for (int micro = 0; micro < Args.GradientAccumulationSteps; micro++)
            {
                var batch = order.NextBatch(Args.PerDeviceTrainBatchSize);
                using var scope = new TensorScope();
                var result = ComputeLoss(batch);
                float loss = result.Loss.Item();
                if (!float.IsFinite(loss))
                    throw new TrainingException($"step {step + 1}: the loss is {loss}; training stopped. The last good checkpoint is in {Checkpoints.Latest(Args.OutputDir) ?? "(none yet)"}. " +
                        "Lower learning_rate, set max_grad_norm, or check the data for empty completions.");
                (result.Loss * (1f / Args.GradientAccumulationSteps)).Backward();
                stepLoss += loss / Args.GradientAccumulationSteps;
                foreach (var (k, v) in result.Metrics) stepMetrics[k] = stepMetrics.GetValueOrDefault(k) + v / Args.GradientAccumulationSteps;
                tokensSinceLog += result.Tokens;
            }
            double norm = GradientClipping.ClipByGlobalNorm(_optimizer.Parameters.Select(p => p.Tensor), Args.MaxGradNorm);
            float lr = schedule.At(step);
            _optimizer.Step(lr);
            _optimizer.ZeroGrad();
            step++;
            lastLoss = stepLoss;

            stepMetrics["loss"] = stepLoss;
            stepMetrics["grad_norm"] = norm;
            stepMetrics["learning_rate"] = lr;
            foreach (var (k, v) in stepMetrics) sums[k] = sums.GetValueOrDefault(k) + v;
            logged++;
            var progress = new Dictionary<string, double>(stepMetrics) { ["epoch"] = order.Position.Epoch + (double)order.Position.Index / ExampleCount };
            if (step % Math.Max(1, Args.LoggingSteps) == 0 || step == total)
            {
                var averaged = sums.ToDictionary(kv => kv.Key, kv => kv.Value / logged);
                averaged["epoch"] = progress["epoch"];
                averaged["tokens_per_second"] = tokensSinceLog / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
                foreach (var sink in _sinks) sink(step, averaged);
                sums.Clear(); logged = 0;
            }
            Progress?.Invoke(new TrainingProgress(step, total, order.Position.Epoch, progress, clock.Elapsed));
            if ((Args.SaveSteps > 0 && step % Args.SaveSteps == 0) || step == total)
                Checkpoints.Save(Args.OutputDir, step, Model, _optimizer, new TrainerState
                {
                    GlobalStep = step, Epoch = order.Position.Epoch, Position = order.Position.Index, LastLoss = lastLoss,
                    RngStates = Model.Generators.ToDictionary(g => g.Key, g => g.Value.GetState()),
                }, Args.SaveTotalLimit);
        }
        Model.Save(Args.OutputDir);
        return new TrainingResult(step, lastLoss, Args.OutputDir, SkippedRows);
    }

    public virtual void Dispose() => Model.Dispose();
}
