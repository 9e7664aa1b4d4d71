// Simple Preference Optimization.
// Meng, Xia and Chen 2024, "SimPO: Simple Preference Optimization with a Reference-Free Reward", https://arxiv.org/abs/2405.14734.
// Follows TRL's CPOTrainer.cpo_loss with loss_type "simpo" (there the margin is simpo_gamma = γ), and the SimPO
// authors' trainer for the defaults (beta 2.0, gamma_beta_ratio 0.5).
using AlignSharp.Tensors;

namespace AlignSharp.Training.Trainers;

/// <summary>Options of the SimPO loss (defaults of the SimPO reference implementation).</summary>
public sealed record SimPoOptions
{
    /// <summary>β: scale of the length-normalised implicit reward β·ā. Default 2.0 (the paper sweeps 2.0–2.5).</summary>
    public float Beta { get; init; } = 2.0f;

    /// <summary>γ/β, the target reward margin γ in units of β (γ = ratio·β; TRL's CPOConfig.simpo_gamma is γ itself). Default 0.5.</summary>
    public float GammaBetaRatio { get; init; } = 0.5f;

    /// <summary>Label smoothing ε in [0, 0.5]: −(1−ε) log σ(z) − ε log σ(−z), as in conservative DPO. Default 0.</summary>
    public float LabelSmoothing { get; init; }
}

/// <summary>SimPO: a reference-free preference loss on length-normalised log-probs with a target margin.</summary>
public static partial class SimPo
{
    /// <summary>
    /// z = β(ā_c − ā_r) − γ with ā the per-token average log-probs and γ = GammaBetaRatio·β;
    /// loss = mean(−(1−ε) log σ(z) − ε log σ(−z)).
    /// Metrics: "rewards/chosen" (mean βā_c), "rewards/rejected", "rewards/accuracies", "rewards/margins",
    /// "logps/chosen", "logps/rejected" (mean ā).
    /// </summary>
    /// <param name="chosenAverageLogps">[B] per-token average log π(y_c|x) over completion tokens (with grad), e.g. <see cref="Ops.MaskedMean"/> of token log-probs.</param>
    /// <param name="rejectedAverageLogps">[B] per-token average log π(y_r|x) (with grad).</param>
    /// <param name="options">Defaults to SimPO's.</param>
    public static LossResult Loss(Tensor chosenAverageLogps, Tensor rejectedAverageLogps, SimPoOptions? options = null)
    {
        const string name = "SimPO loss";
        options ??= new SimPoOptions();
        float beta = options.Beta;
        LossHelpers.RequirePositive(name, nameof(SimPoOptions.Beta), beta);
        LossHelpers.RequireLabelSmoothing(name, options.LabelSmoothing);
        int b = LossHelpers.BatchSize(name, (nameof(chosenAverageLogps), chosenAverageLogps), (nameof(rejectedAverageLogps), rejectedAverageLogps));

        var logits = Ops.AddScalar(Ops.Sub(chosenAverageLogps, rejectedAverageLogps), -options.GammaBetaRatio);  // ā_c − ā_r − γ/β [B]
        var loss = Ops.Mean(LossHelpers.SmoothedSigmoidLoss(Ops.Scale(logits, beta), options.LabelSmoothing));

        var metrics = LossHelpers.ScaledRewardMetrics(beta, chosenAverageLogps, rejectedAverageLogps);
        return new LossResult(loss, metrics);
    }
}
