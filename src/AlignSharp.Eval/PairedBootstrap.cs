using AlignSharp.Tensors;

namespace AlignSharp.Eval;

/// <summary>How a paired bootstrap resamples.</summary>
/// <param name="Resamples">Bootstrap resamples (at least 1).</param>
/// <param name="Seed">Seed of the resampling, so the same outcomes give the same interval.</param>
/// <param name="Level">Coverage of the interval, in (0, 1): 0.95 = the 2.5th to the 97.5th percentile.</param>
public sealed record BootstrapOptions(int Resamples = 2000, ulong Seed = 1, double Level = 0.95);

/// <summary>A metric's change from one model to another on the same prompts, with its bootstrap interval.</summary>
/// <param name="Metric">The metric.</param>
/// <param name="Prompts">Prompts the metric applies to (the resampled set).</param>
/// <param name="Before">The first model's rate.</param>
/// <param name="After">The second model's rate.</param>
/// <param name="Change">After − Before (absolute).</param>
/// <param name="Low">Lower end of the percentile interval of the change.</param>
/// <param name="High">Upper end of the percentile interval of the change.</param>
public sealed record MetricChange(AlignmentMetric Metric, int Prompts, double Before, double After, double Change, double Low, double High)
{
    /// <summary>The interval lies wholly below zero: the metric went down beyond the resampling noise.</summary>
    public bool SurelyDown => High < 0;

    /// <summary>The interval lies wholly above zero.</summary>
    public bool SurelyUp => Low > 0;
}

/// <summary>
/// Paired bootstrap over prompts (Efron &amp; Tibshirani 1993, ch. 13; as in Koehn 2004 for comparing two systems on
/// one test set): both models answered the same prompts, so a resample draws n of the metric's n prompts with
/// replacement and takes the change of the mean on those prompts, keeping each prompt's two outcomes together (the
/// prompt-to-prompt variation both models share cancels). The interval is the percentile interval of the resampled
/// changes: with B sorted changes d₍₀₎ ≤ … ≤ d₍B−1₎ and α = 1 − level, [d₍⌊B·α/2⌋₎, d₍⌈B·(1−α/2)⌉−1₎].
/// </summary>
public static class PairedBootstrap
{
    /// <summary>
    /// The change mean(after) − mean(before) and its interval; <paramref name="before"/>[i] and <paramref name="after"/>[i]
    /// are the two models' values on prompt i. No prompts: NaN everywhere.
    /// </summary>
    /// <exception cref="EvalException">The lists differ in length, or the options are out of range.</exception>
    public static (double Change, double Low, double High) Interval(IReadOnlyList<double> before, IReadOnlyList<double> after, BootstrapOptions? options = null)
    {
        options ??= new BootstrapOptions();
        if (before.Count != after.Count) throw new EvalException($"paired bootstrap: the two models have {before.Count} and {after.Count} outcomes; pairing needs the same prompts");
        if (options.Resamples < 1) throw new EvalException($"paired bootstrap: resamples must be at least 1 (got {options.Resamples})");
        if (!(options.Level is > 0 and < 1)) throw new EvalException($"paired bootstrap: level must be in (0, 1) (got {options.Level})");
        int n = before.Count;
        if (n == 0) return (double.NaN, double.NaN, double.NaN);
        var differences = new double[n];
        for (int i = 0; i < n; i++) differences[i] = after[i] - before[i];
        double change = differences.Average();

        var rng = new Rng(options.Seed);
        var resampled = new double[options.Resamples];
        for (int b = 0; b < resampled.Length; b++)
        {
            double sum = 0;
            for (int i = 0; i < n; i++) sum += differences[rng.NextInt(n)];
            resampled[b] = sum / n;
        }
        Array.Sort(resampled);
        double alpha = 1 - options.Level;
        int low = Math.Clamp((int)Math.Floor(resampled.Length * alpha / 2), 0, resampled.Length - 1);
        int high = Math.Clamp((int)Math.Ceiling(resampled.Length * (1 - alpha / 2)) - 1, 0, resampled.Length - 1);
        return (change, resampled[low], resampled[high]);
    }

    /// <summary>
    /// One metric's change between two models' outcomes on the same prompts (same order; a prompt counts when the
    /// metric applies to it for both).
    /// </summary>
    /// <exception cref="EvalException">The outcome lists are not of the same prompts in the same order.</exception>
    public static MetricChange Change(AlignmentMetric metric, IReadOnlyList<PromptOutcome> before, IReadOnlyList<PromptOutcome> after, BootstrapOptions? options = null)
    {
        if (before.Count != after.Count) throw new EvalException($"paired bootstrap: the two models answered {before.Count} and {after.Count} prompts; pairing needs the same prompts");
        var x = new List<double>();
        var y = new List<double>();
        for (int i = 0; i < before.Count; i++)
        {
            if (before[i].PromptId != after[i].PromptId)
                throw new EvalException($"paired bootstrap: outcome {i} is of prompt '{before[i].PromptId}' for one model and '{after[i].PromptId}' for the other; pairing needs the same prompts in the same order");
            if (before[i].Get(metric) is { } b && after[i].Get(metric) is { } a) { x.Add(b ? 1 : 0); y.Add(a ? 1 : 0); }
        }
        // Each metric resamples from its own stream, so adding a metric leaves the others' intervals unchanged.
        var o = options ?? new BootstrapOptions();
        var (change, low, high) = Interval(x, y, o with { Seed = o.Seed + (ulong)metric * 0x9E3779B97F4A7C15UL });
        return new MetricChange(metric, x.Count, x.Count == 0 ? double.NaN : x.Average(), y.Count == 0 ? double.NaN : y.Average(), change, low, high);
    }

    /// <summary>The change of every metric (in <see cref="AlignmentMetric"/> order).</summary>
    public static IReadOnlyList<MetricChange> Changes(IReadOnlyList<PromptOutcome> before, IReadOnlyList<PromptOutcome> after, BootstrapOptions? options = null) =>
        Enum.GetValues<AlignmentMetric>().Select(m => Change(m, before, after, options)).ToList();
}
