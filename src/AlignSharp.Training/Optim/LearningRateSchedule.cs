namespace AlignSharp.Training.Optim;

/// <summary>
/// Learning rate per step, as transformers' get_scheduler computes it: a linear warmup from 0 over
/// <see cref="WarmupSteps"/>, then constant, linear decay to 0 at <see cref="TotalSteps"/>, or cosine decay to 0.
/// </summary>
public sealed record LearningRateSchedule(string Kind, float PeakLearningRate, int WarmupSteps, int TotalSteps)
{
    public static readonly string[] Kinds = ["constant", "linear", "cosine"];

    public LearningRateSchedule Validate()
    {
        if (!Kinds.Contains(Kind)) throw new TrainingException($"lr_scheduler_type: '{Kind}' is not one of {string.Join(", ", Kinds)}");
        if (PeakLearningRate <= 0) throw new TrainingException($"learning_rate must be positive (got {PeakLearningRate})");
        if (WarmupSteps < 0) throw new TrainingException($"warmup_steps must be ≥ 0 (got {WarmupSteps})");
        return this;
    }

    /// <summary>The rate for the update that follows <paramref name="step"/> completed updates (0-based).</summary>
    public float At(long step)
    {
        // As transformers: the first update of a warmup uses rate 0, update s uses s/warmup of the peak.
        if (step < WarmupSteps) return PeakLearningRate * step / Math.Max(1, WarmupSteps);
        if (Kind == "constant") return PeakLearningRate;
        double progress = TotalSteps <= WarmupSteps ? 1 : Math.Clamp((double)(step - WarmupSteps) / (TotalSteps - WarmupSteps), 0, 1);
        return Kind == "linear"
            ? (float)(PeakLearningRate * (1 - progress))
            : (float)(PeakLearningRate * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }
}
