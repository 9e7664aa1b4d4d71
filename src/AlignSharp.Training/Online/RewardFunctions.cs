// Reward functions of an online run: TRL's reward_funcs / reward_weights (GRPOTrainer._calculate_rewards, RLOO the same).
// Followed: TRL main (GRPOTrainer._generate_and_score_completions, trl/trainer/utils.nanstd), where a function returning
// None for a completion gives NaN in rewards_per_func [N, F] and the per-function metrics are nanmean/nanstd.
// One difference, on purpose: TRL sums the weighted rewards with nansum, so a rollout no function applies to gets 0;
// here it gets NaN ("excluded"), and the advantage code leaves it out instead of reading a made-up 0.
using AlignSharp.Feedback;

namespace AlignSharp.Training.Online;

/// <summary>One reward function of an online run (TRL's <c>reward_funcs</c> entry): any signal source, with its weight (<c>reward_weights</c>).</summary>
public sealed record RewardFunction(ISignalSource Source, float Weight = 1f)
{
    /// <summary>The source's name: the key of this function's metrics (rewards/{name}/mean).</summary>
    public string Name => Source.Name;
}

/// <summary>
/// Every rollout's score by every reward function: [N, F] row-major, NaN where a function does not apply to the
/// rollout's prompt (the source returned null: excluded, never read as zero) or where its label is unparsable (a judge
/// answered but no verdict could be read: no score, so excluded the same way).
/// </summary>
/// <param name="Scores">[N, F] row-major: Scores[n·F + f] is function f's score of rollout n.</param>
/// <param name="N">Rollouts.</param>
/// <param name="F">Functions.</param>
/// <param name="Names">The functions' names, [F].</param>
/// <param name="Weights">The functions' weights, [F].</param>
public sealed record RewardTable(float[] Scores, int N, int F, IReadOnlyList<string> Names, IReadOnlyList<float> Weights)
{
    /// <summary>[N, F] row-major: Scores[n·F + f] is function f's score of rollout n.</summary>
    public float[] Scores { get; init; } = Check(Scores, N, F, Names, Weights);

    /// <summary>Function <paramref name="function"/>'s score of rollout <paramref name="rollout"/> (NaN: not applicable).</summary>
    public float this[int rollout, int function] => Scores[rollout * F + function];

    /// <summary>Function <paramref name="function"/>'s scores of every rollout, [N].</summary>
    public float[] Column(int function)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(function);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(function, F);
        var column = new float[N];
        for (int n = 0; n < N; n++) column[n] = Scores[n * F + function];
        return column;
    }

    /// <summary>Σ_f w_f·score_f over the functions that apply (NaN ones skipped); NaN for a rollout no function applies to.</summary>
    public float[] Weighted()
    {
        var rewards = new float[N];   // [N]
        for (int n = 0; n < N; n++)
        {
            double sum = 0;
            bool any = false;
            for (int f = 0; f < F; f++)
            {
                float s = Scores[n * F + f];
                if (float.IsNaN(s)) continue;
                sum += (double)Weights[f] * s;
                any = true;
            }
            rewards[n] = any ? (float)sum : float.NaN;
        }
        return rewards;
    }

    /// <summary>
    /// TRL's reward metrics: <c>rewards/{name}/mean</c> and <c>rewards/{name}/std</c> of each function over the rollouts it
    /// applies to (TRL's nanmean and nanstd, the std with Bessel's correction), and <c>reward</c> / <c>reward_std</c> of
    /// <see cref="Weighted"/> over the rollouts some function applies to. A mean over no rollouts, and a std over fewer
    /// than two, is NaN (as TRL's).
    /// </summary>
    public IReadOnlyDictionary<string, double> Metrics()
    {
        var metrics = new Dictionary<string, double>();
        for (int f = 0; f < F; f++)
        {
            var (mean, std) = NanMeanStd(Column(f));
            metrics[$"rewards/{Names[f]}/mean"] = mean;
            metrics[$"rewards/{Names[f]}/std"] = std;
        }
        var (rewardMean, rewardStd) = NanMeanStd(Weighted());
        metrics["reward"] = rewardMean;
        metrics["reward_std"] = rewardStd;
        return metrics;
    }

    /// <summary>Mean and Bessel-corrected std of the non-NaN values: √(Σ(x − x̄)² / (k − 1)) over the k values that are not NaN.</summary>
    static (double Mean, double Std) NanMeanStd(float[] values)
    {
        double sum = 0;
        int k = 0;
        foreach (float v in values) if (!float.IsNaN(v)) { sum += v; k++; }
        if (k == 0) return (double.NaN, double.NaN);
        double mean = sum / k, squares = 0;
        foreach (float v in values) if (!float.IsNaN(v)) squares += (v - mean) * (v - mean);
        return (mean, k < 2 ? double.NaN : Math.Sqrt(squares / (k - 1)));
    }

    static float[] Check(float[] scores, int n, int f, IReadOnlyList<string> names, IReadOnlyList<float> weights)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(f);
        if (scores.Length != (long)n * f) throw new ArgumentException($"{scores.Length} scores for an [{n}, {f}] table", nameof(scores));
        if (names.Count != f) throw new ArgumentException($"{names.Count} names for {f} functions", nameof(names));
        if (weights.Count != f) throw new ArgumentException($"{weights.Count} weights for {f} functions", nameof(weights));
        return scores;
    }
}

/// <summary>
/// The reward functions of an online run, scored together: every function over every rollout through its source's
/// batched <see cref="ISignalSource.ScoreBatchAsync"/> (at most <see cref="MaxConcurrency"/> requests of one source in
/// flight), the functions running concurrently with each other; scores in rollout order whatever order they finish in.
/// </summary>
public sealed class RewardFunctions
{
    /// <param name="functions">At least one; distinct names; finite weights (zero and negative weights are allowed, as TRL's).</param>
    /// <param name="maxConcurrency">Most requests of one source in flight (a model-backed source's parallel calls).</param>
    /// <exception cref="TrainingException">No function, a non-finite weight, or two functions with one name.</exception>
    public RewardFunctions(IReadOnlyList<RewardFunction> functions, int maxConcurrency = 8)
    {
        ArgumentNullException.ThrowIfNull(functions);
        if (maxConcurrency < 1) throw new ArgumentOutOfRangeException(nameof(maxConcurrency), maxConcurrency, "must be at least 1");
        if (functions.Count == 0) throw new TrainingException("reward_funcs: give at least one reward function");
        foreach (var function in functions)
        {
            ArgumentNullException.ThrowIfNull(function);
            if (!float.IsFinite(function.Weight))
                throw new TrainingException($"reward_weights: the weight of '{function.Name}' must be a finite number (got {function.Weight})");
        }
        var duplicate = functions.GroupBy(f => f.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new TrainingException($"reward_funcs: {duplicate.Count()} reward functions are named '{duplicate.Key}'; metrics (rewards/{{name}}/mean) are keyed by name, so give each source a distinct name");
        Functions = functions.ToArray();
        MaxConcurrency = maxConcurrency;
    }

    /// <summary>The functions, in the order of the table's columns.</summary>
    public IReadOnlyList<RewardFunction> Functions { get; }

    /// <summary>Most requests of one source in flight.</summary>
    public int MaxConcurrency { get; }

    /// <summary>Scores every rollout's text (<see cref="Rollout.Text"/>) for its prompt with every function.</summary>
    /// <exception cref="TrainingException">A source returned a non-finite score (a source that does not apply returns null).</exception>
    public async Task<RewardTable> ScoreAsync(IReadOnlyList<Rollout> rollouts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rollouts);
        var items = rollouts.Select(r => new SignalItem(r.Prompt, r.Text)).ToArray();
        int n = items.Length, f = Functions.Count;
        // Task.Run: a source whose batch runs synchronously (a reward model's forward) does not hold up the others.
        var batches = Functions.Select(function => Task.Run(
            async () => await function.Source.ScoreBatchAsync(items, MaxConcurrency, cancellationToken), cancellationToken)).ToArray();
        var labels = await Task.WhenAll(batches);

        var scores = new float[n * f];   // [N, F]
        for (int j = 0; j < f; j++)
        {
            var source = Functions[j].Source;
            if (labels[j].Length != n)
                throw new InvalidOperationException($"reward function '{source.Name}' returned {labels[j].Length} labels for {n} rollouts");
            for (int i = 0; i < n; i++)
            {
                // null: does not apply; unparsable: no score. Both are excluded (NaN), never read as 0.
                if (labels[j][i] is not { Unparsable: false } label) { scores[i * f + j] = float.NaN; continue; }
                float score = (float)label.Score;
                if (!float.IsFinite(score))
                    throw new TrainingException($"reward function '{source.Name}' scored prompt '{rollouts[i].Prompt.Id}' {label.Score.ToString(System.Globalization.CultureInfo.InvariantCulture)}; a score must be a finite number (a source that does not apply returns null)");
                scores[i * f + j] = score;
            }
        }
        return new RewardTable(scores, n, f, Functions.Select(x => x.Name).ToArray(), Functions.Select(x => x.Weight).ToArray());
    }
}
