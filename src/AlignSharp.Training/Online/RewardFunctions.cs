using AlignSharp.Feedback;

namespace AlignSharp.Training.Online;

/// <summary>One reward function of an online run (TRL's <c>reward_funcs</c> entry): any signal source, with its weight (<c>reward_weights</c>).</summary>
public sealed record RewardFunction(ISignalSource Source, float Weight = 1f)
{
    public string Name => Source.Name;
}

/// <summary>
/// Every rollout's score by every reward function: [N, F] row-major, NaN where a function does not apply to the
/// rollout's prompt (the source returned null: excluded, never read as zero).
/// </summary>
public sealed record RewardTable(float[] Scores, int N, int F, IReadOnlyList<string> Names, IReadOnlyList<float> Weights)
{
    /// <summary>Σ_f w_f·score_f over the functions that apply (NaN ones skipped); NaN for a rollout no function applies to.</summary>
    public float[] Weighted() => throw new NotImplementedException();

    /// <summary>TRL's reward metrics: reward, reward_std, rewards/NAME/mean and rewards/NAME/std (over the rollouts each function applies to).</summary>
    public IReadOnlyDictionary<string, double> Metrics() => throw new NotImplementedException();
}

/// <summary>The reward functions of an online run, scored together: batched and async, bounded concurrency per source.</summary>
public sealed class RewardFunctions
{
    public RewardFunctions(IReadOnlyList<RewardFunction> functions, int maxConcurrency = 8) => throw new NotImplementedException();

    public IReadOnlyList<RewardFunction> Functions => throw new NotImplementedException();

    /// <summary>Scoring calls in flight at once per function.</summary>
    public int MaxConcurrency => throw new NotImplementedException();

    /// <summary>Scores every rollout's text (<see cref="Rollout.Text"/>) for its prompt with every function.</summary>
    public Task<RewardTable> ScoreAsync(IReadOnlyList<Rollout> rollouts, CancellationToken cancellationToken = default) => throw new NotImplementedException();
}
