// Direct Preference Optimization.
// Rafailov et al. 2023, "Direct Preference Optimization: Your Language Model is Secretly a Reward Model",
// https://arxiv.org/abs/2305.18290. Label smoothing ("conservative DPO"): Mitchell 2023, https://ericmitchell.ai/cdpo.pdf.
// Hinge: Zhao et al. 2023 (SLiC-HF), https://arxiv.org/abs/2305.10425. IPO: Azar et al. 2023, https://arxiv.org/abs/2310.12036.
// RPO: Pang et al. 2024, "Iterative Reasoning Preference Optimization", https://arxiv.org/abs/2404.19733.
// Follows TRL's DPOTrainer (dpo_loss; concatenated_forward for the IPO length normalisation and the RPO NLL).
using AlignSharp.Tensors;

namespace AlignSharp.Training.Trainers;

/// <summary>The DPO loss variants (TRL's <c>loss_type</c> names in brackets).</summary>
public enum DpoLossType
{
    /// <summary>["sigmoid"] −log σ(βΔ), the original DPO loss; with label smoothing ε, conservative DPO.</summary>
    Sigmoid,

    /// <summary>["hinge"] relu(1 − βΔ), the SLiC-HF hinge on the DPO log-ratio margin.</summary>
    Hinge,

    /// <summary>["ipo"] (Δ̄ − 1/(2β))², with length-normalised (per-token average) log-ratios Δ̄.</summary>
    Ipo,
}

/// <summary>Options of the DPO loss (TRL's DPOConfig, with its defaults).</summary>
public sealed record DpoOptions
{
    /// <summary>TRL's <c>beta</c>: strength of the implicit KL penalty to the reference model; higher stays closer to it. Default 0.1. For IPO it is τ, the regularisation.</summary>
    public float Beta { get; init; } = 0.1f;

    /// <summary>TRL's <c>loss_type</c>. Default <see cref="DpoLossType.Sigmoid"/>.</summary>
    public DpoLossType LossType { get; init; } = DpoLossType.Sigmoid;

    /// <summary>
    /// TRL's <c>label_smoothing</c> ε in [0, 0.5]: the assumed probability that a preference label is flipped
    /// (conservative DPO): −(1−ε) log σ(βΔ) − ε log σ(−βΔ). Only the sigmoid loss uses it. Default 0.
    /// </summary>
    public float LabelSmoothing { get; init; }

    /// <summary>
    /// TRL's <c>rpo_alpha</c> (RPO, Pang et al. 2024): when set, adds α·NLL of the chosen completions to the loss, where
    /// NLL is the token-level mean over every chosen token of the batch (−Σ log π(y_c) / Σ |y_c|). Default: off (null).
    /// </summary>
    public float? RpoAlpha { get; init; }
}

/// <summary>Direct Preference Optimization and its IPO, hinge, conservative and RPO variants.</summary>
public static partial class Dpo
{
    /// <summary>Parses TRL's <c>loss_type</c> names: "sigmoid", "hinge", "ipo".</summary>
    public static DpoLossType ParseLossType(string name) => name switch
    {
        "sigmoid" => DpoLossType.Sigmoid,
        "hinge" => DpoLossType.Hinge,
        "ipo" => DpoLossType.Ipo,
        _ => throw new ArgumentException($"DPO: unknown loss_type '{name}'; expected one of sigmoid, hinge, ipo", nameof(name)),
    };

    /// <summary>
    /// Δ = [log π(y_c) − log π_ref(y_c)] − [log π(y_r) − log π_ref(y_r)] per pair; the loss of
    /// <see cref="DpoOptions.LossType"/> averaged over the batch, plus the optional RPO term. For IPO every log-prob
    /// (policy and reference) is first divided by its completion's token count, as TRL does, and the metrics are then
    /// of those averages.
    /// Metrics: "rewards/chosen" (mean β(log π(y_c) − log π_ref(y_c))), "rewards/rejected", "rewards/accuracies",
    /// "rewards/margins", "logps/chosen", "logps/rejected" (mean policy log-probs), and "nll_loss" with RPO.
    /// </summary>
    /// <param name="policyChosenLogps">[B] Σ over completion tokens of log π(y_c | x) (with grad).</param>
    /// <param name="policyRejectedLogps">[B] Σ log π(y_r | x) (with grad).</param>
    /// <param name="referenceChosenLogps">[B] Σ log π_ref(y_c | x); treated as a constant.</param>
    /// <param name="referenceRejectedLogps">[B] Σ log π_ref(y_r | x); treated as a constant.</param>
    /// <param name="chosenTokenCounts">[B] completion token counts |y_c| (used by IPO and RPO).</param>
    /// <param name="rejectedTokenCounts">[B] completion token counts |y_r| (used by IPO).</param>
    /// <param name="options">Defaults to TRL's.</param>
    public static LossResult Loss(
        Tensor policyChosenLogps, Tensor policyRejectedLogps,
        Tensor referenceChosenLogps, Tensor referenceRejectedLogps,
        ReadOnlySpan<int> chosenTokenCounts, ReadOnlySpan<int> rejectedTokenCounts,
        DpoOptions? options = null)
    {
        const string name = "DPO loss";
        options ??= new DpoOptions();
        float beta = options.Beta, epsilon = options.LabelSmoothing;
        LossHelpers.RequirePositive(name, nameof(DpoOptions.Beta), beta);
        LossHelpers.RequireLabelSmoothing(name, epsilon);
        if (epsilon != 0f && options.LossType != DpoLossType.Sigmoid)
            throw new ArgumentException($"{name}: LabelSmoothing applies to the sigmoid loss only; set it to 0 for {options.LossType}", nameof(options));
        int b = LossHelpers.BatchSize(name,
            (nameof(policyChosenLogps), policyChosenLogps), (nameof(policyRejectedLogps), policyRejectedLogps),
            (nameof(referenceChosenLogps), referenceChosenLogps), (nameof(referenceRejectedLogps), referenceRejectedLogps));
        var chosenCounts = LossHelpers.TokenCounts(name, nameof(chosenTokenCounts), chosenTokenCounts, b);
        var rejectedCounts = LossHelpers.TokenCounts(name, nameof(rejectedTokenCounts), rejectedTokenCounts, b);

        Tensor chosen = policyChosenLogps, rejected = policyRejectedLogps;         // [B]
        float[] referenceChosen = referenceChosenLogps.ToArray(), referenceRejected = referenceRejectedLogps.ToArray();
        if (options.LossType == DpoLossType.Ipo)
        {
            var chosenScale = new float[b];
            var rejectedScale = new float[b];
            for (int i = 0; i < b; i++)
            {
                chosenScale[i] = 1f / chosenCounts[i];
                rejectedScale[i] = 1f / rejectedCounts[i];
                referenceChosen[i] /= chosenCounts[i];
                referenceRejected[i] /= rejectedCounts[i];
            }
            chosen = Ops.Mul(chosen, LossHelpers.Constant(chosenScale));
            rejected = Ops.Mul(rejected, LossHelpers.Constant(rejectedScale));
        }

        var referenceMargin = new float[b];
        for (int i = 0; i < b; i++) referenceMargin[i] = referenceChosen[i] - referenceRejected[i];
        var logits = Ops.Sub(Ops.Sub(chosen, rejected), LossHelpers.Constant(referenceMargin));   // Δ [B]

        var losses = options.LossType switch                                                       // [B]
        {
            DpoLossType.Sigmoid => LossHelpers.SmoothedSigmoidLoss(Ops.Scale(logits, beta), epsilon),
            DpoLossType.Hinge => Ops.Relu(Ops.AddScalar(Ops.Scale(logits, -beta), 1f)),
            DpoLossType.Ipo => Ops.Square(Ops.AddScalar(logits, -1f / (2f * beta))),
            _ => throw new ArgumentOutOfRangeException(nameof(options), $"{name}: unknown loss type {options.LossType}"),
        };
        var loss = Ops.Mean(losses);                                                               // scalar

        var metrics = new Dictionary<string, float>();
        if (options.RpoAlpha is { } alpha)
        {
            // TRL: F.cross_entropy over the chosen tokens of the whole batch, one token-level mean (not a mean of per-sequence means).
            double tokens = 0;
            foreach (var n in chosenCounts) tokens += n;
            var nll = Ops.Scale(Ops.Sum(policyChosenLogps), (float)(-1.0 / tokens));
            loss = Ops.Add(loss, Ops.Scale(nll, alpha));
            metrics["nll_loss"] = nll.Item();
        }

        float[] chosenValues = chosen.ToArray(), rejectedValues = rejected.ToArray();
        var chosenRewards = new float[b];
        var rejectedRewards = new float[b];
        for (int i = 0; i < b; i++)
        {
            chosenRewards[i] = (float)(beta * ((double)chosenValues[i] - referenceChosen[i]));
            rejectedRewards[i] = (float)(beta * ((double)rejectedValues[i] - referenceRejected[i]));
        }
        LossHelpers.AddRewardMetrics(metrics, chosenRewards, rejectedRewards);
        metrics["logps/chosen"] = LossHelpers.Mean(chosenValues);
        metrics["logps/rejected"] = LossHelpers.Mean(rejectedValues);
        return new LossResult(loss, metrics);
    }
}
