// Bradley–Terry reward model loss.
// Ouyang et al. 2022, "Training language models to follow instructions with human feedback" (InstructGPT),
// https://arxiv.org/abs/2203.02155; per-pair margins as in Touvron et al. 2023 (Llama 2), https://arxiv.org/abs/2307.09288;
// reward centring from Eisenstein et al. 2023, https://arxiv.org/abs/2312.09244.
// Follows TRL's RewardTrainer.compute_loss (the "margin" column subtracted inside the sigmoid,
// center_rewards_coefficient), the same in v0.28 and current TRL.
using System.ComponentModel;
using AlignSharp.Tensors;

namespace AlignSharp.Training.Trainers;

/// <summary>Options of the reward model loss (TRL's RewardConfig).</summary>
public sealed record RewardModelOptions
{
    /// <summary>
    /// TRL's <c>center_rewards_coefficient</c> (Eisenstein et al. 2023): when set, adds c·mean((r_c + r_r)²) to the loss,
    /// pulling the scores towards zero mean so that rewards from different runs are comparable. Default: off (null).
    /// </summary>
    [Description("weight of mean((r_chosen + r_rejected)^2), pulling rewards towards zero mean (null: off)")]
    public float? CenterRewardsCoefficient { get; init; }
}

/// <summary>Reward modelling with the Bradley–Terry pairwise loss.</summary>
public static partial class RewardModel
{
    /// <summary>
    /// loss = −mean(log σ(r_c − r_r − m)) [+ c·mean((r_c + r_r)²)], where r_c, r_r are the scalar scores of the chosen
    /// and rejected completions and m the optional per-pair margin (Llama 2: larger for clearer preferences).
    /// Metrics: "accuracy" (fraction with r_c &gt; r_r), "margin" (mean r_c − r_r), "rewards/chosen", "rewards/rejected" (mean scores).
    /// </summary>
    /// <param name="chosenRewards">[B] scores of the chosen completions (with grad).</param>
    /// <param name="rejectedRewards">[B] scores of the rejected completions (with grad).</param>
    /// <param name="options">Defaults to TRL's.</param>
    /// <param name="margins">Optional [B] margins subtracted inside the sigmoid (TRL's "margin" dataset column).</param>
    public static LossResult Loss(Tensor chosenRewards, Tensor rejectedRewards, RewardModelOptions? options = null, IReadOnlyList<float>? margins = null)
    {
        options ??= new RewardModelOptions();
        int b = LossHelpers.BatchSize("reward model loss", (nameof(chosenRewards), chosenRewards), (nameof(rejectedRewards), rejectedRewards));

        var difference = Ops.Sub(chosenRewards, rejectedRewards);                   // [B]
        if (margins is not null)
        {
            LossHelpers.RequireLength("reward model loss", nameof(margins), margins.Count, b);
            difference = Ops.Sub(difference, LossHelpers.Constant([.. margins]));
        }
        var loss = Ops.Neg(Ops.Mean(Ops.LogSigmoid(difference)));                  // scalar
        if (options.CenterRewardsCoefficient is { } c && c != 0f)
            loss = Ops.Add(loss, Ops.Scale(Ops.Mean(Ops.Square(Ops.Add(chosenRewards, rejectedRewards))), c));

        var chosen = chosenRewards.ToArray();
        var rejected = rejectedRewards.ToArray();
        int wins = 0;
        double margin = 0;
        for (int i = 0; i < b; i++)
        {
            if (chosen[i] > rejected[i]) wins++;
            margin += (double)chosen[i] - rejected[i];
        }
        var metrics = new Dictionary<string, float>
        {
            ["accuracy"] = (float)wins / b,
            ["margin"] = (float)(margin / b),
            ["rewards/chosen"] = LossHelpers.Mean(chosen),
            ["rewards/rejected"] = LossHelpers.Mean(rejected),
        };
        return new LossResult(loss, metrics);
    }
}
