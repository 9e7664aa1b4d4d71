using System.ComponentModel;

namespace AlignSharp.Training.Online;

/// <summary>
/// Where an online run's rewards come from (every online method reads these keys): TRL's <c>reward_funcs</c> as
/// signal-source specs, their <c>reward_weights</c>, and how many scoring calls run at once. What a spec may name is
/// up to the caller that builds the <see cref="RewardFunctions"/> (alignsharp train: see `train grpo --help`).
/// </summary>
public sealed record OnlineRewardOptions
{
    /// <summary>TRL's <c>reward_funcs</c>: the signal sources that score each completion, e.g. [rm:runs/rm, world:correct_answer].</summary>
    [Description("signal sources scoring each completion (see `train grpo --help` for the kinds), e.g. [rm:runs/rm]")]
    public string[] RewardFuncs { get; init; } = [];

    /// <summary>TRL's <c>reward_weights</c>: one weight per reward function (null: all 1).</summary>
    [Description("one weight per reward function (null: all 1)")]
    public float[]? RewardWeights { get; init; }

    /// <summary>Scoring calls in flight at once per reward function (model judges over an endpoint benefit). Default 8.</summary>
    [Description("scoring calls in flight at once per reward function")]
    public int RewardConcurrency { get; init; } = 8;
}
