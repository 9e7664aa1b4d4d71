// Simple Preference Optimization.
// Meng, Xia and Chen 2024, "SimPO: Simple Preference Optimization with a Reference-Free Reward", https://arxiv.org/abs/2405.14734.
// CPO's behaviour-cloning term: Xu et al. 2024, "Contrastive Preference Optimization", https://arxiv.org/abs/2401.08417.
// Follows TRL's CPOTrainer with loss_type "simpo" (cpo_loss, concatenated_forward's nll_loss, get_batch_loss_metrics),
// the same in v0.28 and current TRL (trl.experimental.cpo), defaults included (CPOConfig: beta 0.1, simpo_gamma 0.5,
// cpo_alpha 1.0, so the default is CPO-SimPO). The SimPO authors' own setting is cpo_alpha 0 with beta 2.0–2.5 and
// simpo_gamma = 0.25–0.5 × beta (their gamma_beta_ratio).
using System.ComponentModel;
using AlignSharp.Tensors;

namespace AlignSharp.Training.Trainers;

/// <summary>Options of the SimPO loss (TRL's CPOConfig for loss_type "simpo", with its defaults).</summary>
public sealed record SimPoOptions
{
    /// <summary>TRL's <c>beta</c>: scale of the length-normalised implicit reward β·ā. Default 0.1 (the SimPO paper uses 2.0–2.5).</summary>
    [Description("scale β of the length-normalised reward β·ā (TRL default 0.1; the SimPO paper uses 2.0-2.5)")]
    public float Beta { get; init; } = 0.1f;

    /// <summary>TRL's <c>simpo_gamma</c>: the target reward margin γ (the loss compares β(ā_c − ā_r) with γ). Default 0.5.</summary>
    [Description("target reward margin γ between chosen and rejected rewards")]
    public float SimpoGamma { get; init; } = 0.5f;

    /// <summary>
    /// TRL's <c>cpo_alpha</c>: weight of CPO's behaviour-cloning term, the NLL of the chosen completions as one token mean
    /// over the batch (−Σ log π(y_c) / Σ |y_c|). Default 1.0 (CPO-SimPO, TRL's default); 0 is the SimPO paper's loss.
    /// </summary>
    [Description("weight of the NLL of the chosen completions (TRL default 1.0; 0 is plain SimPO)")]
    public float CpoAlpha { get; init; } = 1.0f;

    /// <summary>TRL's <c>label_smoothing</c> ε in [0, 0.5]: −(1−ε) log σ(z) − ε log σ(−z), as in conservative DPO. Default 0.</summary>
    [Description("label smoothing ε: assumed probability that a preference label is flipped")]
    public float LabelSmoothing { get; init; }
}

/// <summary>SimPO: a reference-free preference loss on length-normalised log-probs with a target margin.</summary>
public static partial class SimPo
{
    /// <summary>
    /// z = β(ā_c − ā_r) − γ with ā = Σ/|y| the per-token average log-probs; loss = mean(−(1−ε) log σ(z) − ε log σ(−z))
    /// + α·NLL, NLL = −Σ_pairs Σ log π(y_c) / Σ_pairs |y_c| (0 when α is 0, as TRL skips it).
    /// Metrics: "rewards/chosen" (mean βā_c), "rewards/rejected", "rewards/accuracies", "rewards/margins",
    /// "logps/chosen", "logps/rejected" (mean ā), "nll_loss".
    /// </summary>
    /// <param name="chosenLogps">[B] Σ over completion tokens of log π(y_c|x) (with grad).</param>
    /// <param name="rejectedLogps">[B] Σ log π(y_r|x) (with grad).</param>
    /// <param name="chosenTokenCounts">[B] completion token counts |y_c|.</param>
    /// <param name="rejectedTokenCounts">[B] completion token counts |y_r|.</param>
    /// <param name="options">Defaults to TRL's.</param>
    public static LossResult Loss(Tensor chosenLogps, Tensor rejectedLogps, ReadOnlySpan<int> chosenTokenCounts, ReadOnlySpan<int> rejectedTokenCounts, SimPoOptions? options = null)
    {
        const string name = "SimPO loss";
        options ??= new SimPoOptions();
        float beta = options.Beta;
        LossHelpers.RequirePositive(name, nameof(SimPoOptions.Beta), beta);
        LossHelpers.RequireLabelSmoothing(name, options.LabelSmoothing);
        if (!(options.CpoAlpha >= 0f) || float.IsInfinity(options.CpoAlpha))
            throw new ArgumentOutOfRangeException(nameof(options), $"{name}: CpoAlpha must be a finite number ≥ 0, got {options.CpoAlpha}");
        int b = LossHelpers.BatchSize(name, (nameof(chosenLogps), chosenLogps), (nameof(rejectedLogps), rejectedLogps));
        var chosenCounts = LossHelpers.TokenCounts(name, nameof(chosenTokenCounts), chosenTokenCounts, b);
        var rejectedCounts = LossHelpers.TokenCounts(name, nameof(rejectedTokenCounts), rejectedTokenCounts, b);

        var chosen = Ops.Div(chosenLogps, LossHelpers.Constant(chosenCounts));                 // ā_c [B]
        var rejected = Ops.Div(rejectedLogps, LossHelpers.Constant(rejectedCounts));           // ā_r [B]
        var logits = Ops.AddScalar(Ops.Sub(chosen, rejected), -options.SimpoGamma / beta);      // ā_c − ā_r − γ/β [B]
        var loss = Ops.Mean(LossHelpers.SmoothedSigmoidLoss(Ops.Scale(logits, beta), options.LabelSmoothing));

        float nllValue = 0f;
        if (options.CpoAlpha != 0f)
        {
            double tokens = 0;
            foreach (var n in chosenCounts) tokens += n;
            var nll = Ops.Scale(Ops.Sum(chosenLogps), (float)(-1.0 / tokens));
            loss = Ops.Add(loss, Ops.Scale(nll, options.CpoAlpha));
            nllValue = nll.Item();
        }

        var metrics = LossHelpers.ScaledRewardMetrics(beta, chosen, rejected);
        metrics["nll_loss"] = nllValue;
        return new LossResult(loss, metrics);
    }
}
