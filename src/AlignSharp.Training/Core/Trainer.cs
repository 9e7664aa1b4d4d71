using System.Diagnostics;
using AlignSharp.Tensors;
using AlignSharp.Training.Optim;

namespace AlignSharp.Training.Core;

/// <summary>Progress after each optimizer step, for progress bars and logs.</summary>
public sealed record TrainingProgress(long Step, long TotalSteps, int Epoch, IReadOnlyDictionary<string, double> Metrics, TimeSpan Elapsed);

/// <summary>A batch's mean loss (with gradients), the metrics to log for it, and how many tokens it trained on.</summary>
public sealed record BatchLoss(Tensor Loss, IReadOnlyDictionary<string, float> Metrics, long Tokens);

/// <summary>What a finished run reports: <paramref name="FinalLoss"/> is the loss as last logged (the mean over the last logging window); <paramref name="Elapsed"/> counts every part of a resumed run.</summary>
public sealed record TrainingResult(long Steps, double FinalLoss, string OutputDir, int SkippedRows, TimeSpan Elapsed = default);

/// <summary>Where a run starts: the checkpoint it resumes from (null for step 0), its step, and the training time spent before it.</summary>
public sealed record RunStart(string? Checkpoint, long Step, TimeSpan EarlierElapsed)
{
    /// <summary>For metrics writers: drop records after this step (a resumed run redoes them), or null for a fresh run.</summary>
    public long? TruncateMetricsAfter { get; init; }
}

/// <summary>
/// The loop every trainer shares: seeded data order, gradient accumulation, global-norm clipping, the
/// learning-rate schedule, the optimizer, metrics, atomic checkpoints every save_steps and at the end, and
/// resume. A method supplies only <see cref="ComputeLoss"/> over a batch of example indices.
/// </summary>
/// <remarks>
/// A checkpoint is only written from a state training can go on from: the checkpoint of step k is written during
/// step k+1, once that step's loss and gradient are found finite and before its update, from the (unchanged)
/// weights and optimizer state of step k; the last one is written after checking the weights and optimizer state.
/// A NaN or infinite loss or gradient, or an update that makes weights or optimizer state non-finite, stops the run
/// naming the last checkpoint written (or saying there is none); resuming from it with a lower learning rate
/// (resume_override: [learning_rate]) repeats a step whose gradient is known to be finite.
/// </remarks>
public abstract class Trainer : IDisposable
{
    protected TrainingArguments Args { get; }
    protected TrainableModel Model { get; }
    private readonly Optimizer _optimizer;
    private readonly List<Action<long, IReadOnlyDictionary<string, double>>> _sinks = new();
    private readonly List<object> _methodOptions = new();
    private RunStart? _start;

    /// <summary>Called after each optimizer step.</summary>
    public event Action<TrainingProgress>? Progress;

    /// <summary>Rows the dataset reader skipped (skip_bad_rows).</summary>
    protected int SkippedRows { get; set; }

    protected Trainer(TrainingArguments args, TrainableModel model)
    {
        Args = args.Validate(requirePaths: false);
        Model = model;
        var trainable = model.Trainable.Select(t => new TrainableParameter(t.Name, t.Tensor, TrainableParameter.DefaultDecay(t.Name, t.Tensor))).ToList();
        foreach (var t in trainable) t.Tensor.RequiresGrad = true;
        _optimizer = args.Optim == "sgd"
            ? new Sgd(trainable, 0f, args.WeightDecay)
            : new AdamW(trainable, new AdamWOptions(args.AdamBeta1, args.AdamBeta2, args.AdamEpsilon, args.WeightDecay));
    }

    /// <summary>
    /// Adds the method's options records (e.g. DpoOptions) to the settings recorded in output_dir and checked on
    /// resume, beside every <see cref="TrainingArguments"/> key. Call before <see cref="PrepareRun"/> or <see cref="Train"/>.
    /// </summary>
    public void RecordOptions(params object[] options)
    {
        if (_start is not null) throw new InvalidOperationException("RecordOptions must come before PrepareRun/Train");
        _methodOptions.AddRange(options);
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

    /// <summary>
    /// The examples of micro-batch <paramref name="micro"/> of optimizer step <paramref name="step"/> (0-based, the step
    /// being made): by default the next per_device_train_batch_size examples of the seeded data order. Online trainers
    /// generate here when a new generation batch is due and return rows of it.
    /// </summary>
    protected virtual int[] NextMicroBatch(Data.DataOrder order, long step, int micro) => order.NextBatch(Args.PerDeviceTrainBatchSize);

    /// <summary>
    /// What a checkpoint of the current step must keep beyond the weights, optimizer, data position and random
    /// generators (an online trainer's generation batch), captured when the step ends; null when nothing. It is
    /// written by <see cref="SaveExtraState"/> later (during the next step), so it must not change after capture.
    /// </summary>
    protected virtual object? CaptureExtraState() => null;

    /// <summary>Writes a state from <see cref="CaptureExtraState"/> into a checkpoint folder being written.</summary>
    protected virtual void SaveExtraState(object state, string folder) { }

    /// <summary>Restores what <see cref="SaveExtraState"/> wrote, on resume from <paramref name="folder"/>.</summary>
    protected virtual void RestoreExtraState(string folder) { }

    /// <summary>Random generators a checkpoint saves and a resume restores: the model's (LoRA dropout), and a method's own.</summary>
    protected virtual IReadOnlyDictionary<string, Rng> Generators => Model.Generators;

    /// <summary>The optimizer steps the run makes: max_steps if set, else epochs × ⌈examples ÷ (batch × accumulation)⌉.</summary>
    public virtual long TotalSteps
    {
        get
        {
            if (Args.MaxSteps > 0) return Args.MaxSteps;
            long perEpoch = (long)Math.Ceiling(ExampleCount / (double)(Args.PerDeviceTrainBatchSize * Args.GradientAccumulationSteps));
            return Math.Max(1, perEpoch * Args.NumTrainEpochs);
        }
    }

    /// <summary>
    /// Readies output_dir (done by <see cref="Train"/> if not called first; call it before opening metrics files there):
    /// a fresh run refuses a non-empty folder unless overwrite_output_dir (which clears it); a resume checks the
    /// settings against the run's <see cref="RunSettings.FileName"/>. Then records the settings.
    /// </summary>
    public RunStart PrepareRun()
    {
        if (_start is not null) return _start;
        if (ExampleCount == 0) throw new TrainingException($"{Args.Dataset}: no usable examples");
        var settings = RunSettings.Of(Args, TotalSteps, _methodOptions);
        RunStart start;
        if (Args.Resume)
        {
            RunSettings.CheckResume(Args.OutputDir, settings, Args.ResumeOverride ?? []);
            string? checkpoint = Checkpoints.Latest(Args.OutputDir);
            var state = checkpoint is null ? null : TrainerState.Load(Path.Combine(checkpoint, Checkpoints.StateFile));
            start = new RunStart(checkpoint, state?.GlobalStep ?? 0, TimeSpan.FromSeconds(state?.ElapsedSeconds ?? 0)) { TruncateMetricsAfter = state?.GlobalStep ?? 0 };
        }
        else
        {
            OutputDirectory.PrepareFresh(Args.OutputDir, Args.OverwriteOutputDir, [Args.Model, Args.Dataset, Args.EvalDataset, File.Exists(Args.ChatTemplate) ? Args.ChatTemplate : null]);
            start = new RunStart(null, 0, TimeSpan.Zero);
        }
        RunSettings.Record(Args.OutputDir, settings);
        return _start = start;
    }

    public TrainingResult Train(CancellationToken cancellationToken = default)
    {
        var start = PrepareRun();
        long total = TotalSteps;
        int warmup = Args.WarmupSteps > 0 ? Args.WarmupSteps : (int)Math.Ceiling(Args.WarmupRatio * total);
        var schedule = new LearningRateSchedule(Args.LrSchedulerType, Args.LearningRate, warmup, (int)total).Validate();
        long step = 0;
        double lastLoss = double.NaN, loggedLoss = double.NaN;
        var position = Data.DataPosition.Start;
        if (start.Checkpoint is { } resumeFrom)
        {
            var state = Checkpoints.Restore(resumeFrom, Model, _optimizer, out var rngs);
            if (_optimizer.FirstNonFinite() is { } bad)
                throw new TrainingException($"{resumeFrom}: '{bad}' holds NaN or infinite values (written by an older version that did not check); delete this checkpoint folder to resume from the one before, or start over with overwrite_output_dir: true");
            foreach (var (name, rng) in Generators)
                if (rngs.TryGetValue(name, out var saved)) rng.SetState(saved);
            RestoreExtraState(resumeFrom);
            (step, lastLoss, loggedLoss, position) = (state.GlobalStep, state.LastLoss, state.LoggedLoss, new Data.DataPosition(state.Epoch, state.Position));
        }
        var order = new Data.DataOrder(ExampleCount, (int)(Args.Seed & 0x7FFFFFFF), shuffle: true, position);
        string? lastGood = start.Checkpoint;
        TrainerState? pending = null; // the state after a save step, written once the next step proves finite
        object? pendingExtra = null;

        var sums = new Dictionary<string, double>();
        int logged = 0;
        var clock = Stopwatch.StartNew();
        TimeSpan Elapsed() => start.EarlierElapsed + clock.Elapsed;
        long tokensSinceLog = 0;
        TrainingException Stopped(long atStep, string why) => new(
            $"step {atStep}: {why}; training stopped. " + (lastGood is null
                ? "No checkpoint was written before it (none is kept from non-finite weights); start again with a lower learning_rate (overwrite_output_dir: true), set max_grad_norm, or check the data for empty completions."
                : $"The last good checkpoint is {lastGood}: resume from it with a lower learning_rate (resume: true, resume_override: [learning_rate]), set max_grad_norm, or check the data for empty completions."));
        void Save(TrainerState state, object? extra)
        {
            Checkpoints.Save(Args.OutputDir, state.GlobalStep, Model, _optimizer, state, Args.SaveTotalLimit,
                extra is null ? null : folder => SaveExtraState(extra, folder));
            lastGood = Path.Combine(Args.OutputDir, $"checkpoint-{state.GlobalStep}");
        }
        try
        {
            while (step < total)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var stepMetrics = new Dictionary<string, double>();
                double stepLoss = 0;
                for (int micro = 0; micro < Args.GradientAccumulationSteps; micro++)
                {
                    var batch = NextMicroBatch(order, step, micro);
                    using var scope = new TensorScope();
                    var result = ComputeLoss(batch);
                    float loss = result.Loss.Item();
                    if (!float.IsFinite(loss)) throw Stopped(step + 1, $"the loss is {loss}");
                    (result.Loss * (1f / Args.GradientAccumulationSteps)).Backward();
                    stepLoss += loss / Args.GradientAccumulationSteps;
                    foreach (var (k, v) in result.Metrics) stepMetrics[k] = stepMetrics.GetValueOrDefault(k) + v / Args.GradientAccumulationSteps;
                    tokensSinceLog += result.Tokens;
                }
                double norm = GradientClipping.ClipByGlobalNorm(_optimizer.Parameters.Select(p => p.Tensor), Args.MaxGradNorm);
                if (!double.IsFinite(norm)) throw Stopped(step + 1, $"the gradient norm is {norm} (the loss was {stepLoss:G4})");
                // This step's loss and gradient are finite, so the state before its update is one training can go on from.
                if (pending is not null) { Save(pending, pendingExtra); pending = null; pendingExtra = null; }
                float lr = schedule.At(step);
                _optimizer.Step(lr);
                _optimizer.ZeroGrad();
                step++;
                if (_optimizer.FirstNonFinite() is { } bad)
                    throw Stopped(step, $"the update at learning rate {lr:G4} made '{bad}' NaN or infinite (the loss was {stepLoss:G4})");
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
                    loggedLoss = averaged["loss"];
                    foreach (var sink in _sinks) sink(step, averaged);
                    sums.Clear(); logged = 0;
                }
                Progress?.Invoke(new TrainingProgress(step, total, order.Position.Epoch, progress, clock.Elapsed));
                if ((Args.SaveSteps > 0 && step % Args.SaveSteps == 0) || step == total)
                {
                    var state = new TrainerState
                    {
                        GlobalStep = step, Epoch = order.Position.Epoch, Position = order.Position.Index, LastLoss = lastLoss, LoggedLoss = loggedLoss,
                        ElapsedSeconds = Elapsed().TotalSeconds, RngStates = Generators.ToDictionary(g => g.Key, g => g.Value.GetState()),
                    };
                    var extra = CaptureExtraState();
                    if (step == total) Save(state, extra); // the weights were checked finite above; no step follows
                    else (pending, pendingExtra) = (state, extra);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped between steps: the pending state is the current one, with finite weights and optimizer state.
            if (pending is not null) Save(pending, pendingExtra);
            throw;
        }
        Model.Save(Args.OutputDir);
        return new TrainingResult(step, loggedLoss, Args.OutputDir, SkippedRows, Elapsed());
    }

    /// <summary>
    /// Whether <see cref="Dispose"/> disposes the model (true by default: the CLI hands its model over). A pipeline that
    /// keeps using the trained model in memory (sampling, evaluation, the next round) sets it to false and disposes the
    /// model itself.
    /// </summary>
    public bool OwnsModel { get; set; } = true;

    public virtual void Dispose() { if (OwnsModel) Model.Dispose(); }
}
