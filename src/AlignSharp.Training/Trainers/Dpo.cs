// Direct Preference Optimization.
// Rafailov et al. 2023, "Direct Preference Optimization: Your Language Model is Secretly a Reward Model",
// https://arxiv.org/abs/2305.18290. Hinge: Zhao et al. 2023 (SLiC-HF), https://arxiv.org/abs/2305.10425.
// IPO: Azar et al. 2023, https://arxiv.org/abs/2310.12036. Robust DPO: Chowdhury et al. 2024, https://arxiv.org/abs/2403.00409.
// Conservative DPO: Mitchell 2023, https://ericmitchell.ai/cdpo.pdf. RPO: Pang et al. 2024, https://arxiv.org/abs/2404.19733.
// TRL versions followed: "sigmoid", "hinge", "ipo" and "robust" follow current TRL's DPOTrainer._compute_loss (robust,
// hinge and ipo are unchanged since v0.28; both divide IPO's log-ratios by the completion lengths; for ipo the logged
// rewards and logps are of the per-token averages, as TRL <= 0.28 logged them, where current TRL logs the sums).
// Current TRL's sigmoid ignores label_smoothing; "cdpo" is TRL <= 0.28's sigmoid with label_smoothing (conservative
// DPO), kept under its own name. rpo_alpha follows TRL <= 0.28's rpo_alpha, which current TRL writes as loss_type
// ["sigmoid", "sft"] with loss_weights [1, rpo_alpha]: the same token-mean NLL of the chosen completions.
using System.ComponentModel;
using AlignSharp.Tensors;

namespace AlignSharp.Training.Trainers;

/// <summary>The DPO loss variants; a recipe spells them as TRL's <c>loss_type</c> (in brackets), see <see cref="Dpo.LossTypeName"/>.</summary>
public enum DpoLossType
{
    /// <summary>["sigmoid"] −log σ(βΔ), the original DPO loss (current TRL: no label smoothing).</summary>
    Sigmoid,

    /// <summary>["hinge"] relu(1 − βΔ), the SLiC-HF hinge on the DPO log-ratio margin.</summary>
    Hinge,

    /// <summary>["ipo"] (Δ̄ − 1/(2β))², with length-normalised (per-token average) log-ratios Δ̄.</summary>
    Ipo,

    /// <summary>["robust"] [−(1−ε) log σ(βΔ) + ε log σ(−βΔ)] / (1 − 2ε): unbiased under a label-flip rate ε (TRL's robust DPO).</summary>
    Robust,

    /// <summary>["cdpo"] −(1−ε) log σ(βΔ) − ε log σ(−βΔ): conservative DPO, TRL ≤ 0.28's sigmoid with label_smoothing ε.</summary>
    Cdpo,
}

/// <summary>Options of the DPO loss (TRL's DPOConfig, with its defaults).</summary>
public sealed record DpoOptions
{
    /// <summary>TRL's <c>beta</c>: strength of the implicit KL penalty to the reference model; higher stays closer to it. Default 0.1. For IPO it is τ, the regularisation.</summary>
    [Description("KL penalty strength β: higher keeps the policy closer to the reference (τ for ipo)")]
    public float Beta { get; init; } = 0.1f;

    /// <summary>TRL's <c>loss_type</c>. Default <see cref="DpoLossType.Sigmoid"/>.</summary>
    [Description("loss variant: sigmoid, hinge, ipo, robust as current TRL; cdpo is TRL <= 0.28's sigmoid with label_smoothing")]
    public DpoLossType LossType { get; init; } = DpoLossType.Sigmoid;

    /// <summary>
    /// TRL's <c>label_smoothing</c> ε: the assumed probability that a preference label is flipped. Used by
    /// <see cref="DpoLossType.Robust"/> (ε in [0, 0.5)) and <see cref="DpoLossType.Cdpo"/> (ε in [0, 0.5]); any other
    /// loss type refuses a nonzero value (current TRL's sigmoid would ignore it). Default 0.
    /// </summary>
    [Description("assumed label-flip rate ε for loss_type robust or cdpo (0 for the others)")]
    public float LabelSmoothing { get; init; }

    /// <summary>
    /// TRL's <c>rpo_alpha</c> (RPO, Pang et al. 2024): when set, adds α·NLL of the chosen completions to the loss, where
    /// NLL is the token-level mean over every chosen token of the batch (−Σ log π(y_c) / Σ |y_c|). Default: off (null).
    /// </summary>
    [Description("RPO: weight of the NLL of the chosen completions added to the loss (null: off)")]
    public float? RpoAlpha { get; init; }
}

/// <summary>Direct Preference Optimization and its IPO, hinge, robust, conservative and RPO variants.</summary>
public static partial class Dpo
{
    /// <summary>The <c>loss_type</c> name a recipe uses, lower case as TRL spells it: "sigmoid", "hinge", "ipo", "robust", "cdpo".</summary>
    public static string LossTypeName(DpoLossType type) => type switch
    {
        DpoLossType.Sigmoid => "sigmoid",
        DpoLossType.Hinge => "hinge",
        DpoLossType.Ipo => "ipo",
        DpoLossType.Robust => "robust",
        DpoLossType.Cdpo => "cdpo",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown DPO loss type"),
    };

    /// <summary>Parses a <c>loss_type</c> name (see <see cref="LossTypeName"/>).</summary>
    public static DpoLossType ParseLossType(string name)
    {
        foreach (var type in Enum.GetValues<DpoLossType>())
            if (LossTypeName(type) == name) return type;
        throw new ArgumentException($"DPO: unknown loss_type '{name}'; expected one of {string.Join(", ", Enum.GetValues<DpoLossType>().Select(LossTypeName))}", nameof(name));
    }

    /// <summary>
    /// Why these options cannot be used, in recipe terms (null when they can): label smoothing with a loss type that
    /// does not use it, or robust with ε ≥ 0.5. Trainers check it up front so a recipe fails before training.
    /// </summary>
    internal static string? OptionsProblem(DpoOptions options)
    {
        float epsilon = options.LabelSmoothing;
        if (!(epsilon >= 0f && epsilon <= 0.5f)) return $"label_smoothing must be in [0, 0.5], got {epsilon}";
        if (epsilon != 0f && options.LossType == DpoLossType.Sigmoid)
            return $"label_smoothing {epsilon} with loss_type sigmoid: current TRL's sigmoid ignores label smoothing; use loss_type cdpo " +
                "for conservative DPO (TRL <= 0.28's sigmoid with label_smoothing) or loss_type robust, or set label_smoothing to 0";
        if (epsilon != 0f && options.LossType is not (DpoLossType.Robust or DpoLossType.Cdpo))
            return $"label_smoothing applies to loss_type cdpo and robust only; set it to 0 for {LossTypeName(options.LossType)}";
        if (options.LossType == DpoLossType.Robust && epsilon >= 0.5f)
            return $"loss_type robust needs label_smoothing below 0.5 (it divides by 1 − 2ε), got {epsilon}";
        return null;
    }

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
        if (OptionsProblem(options) is { } problem) throw new ArgumentException($"{name}: {problem}", nameof(options));
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
            DpoLossType.Sigmoid => Ops.Neg(Ops.LogSigmoid(Ops.Scale(logits, beta))),
            DpoLossType.Cdpo => LossHelpers.SmoothedSigmoidLoss(Ops.Scale(logits, beta), epsilon),
            DpoLossType.Robust => RobustLoss(Ops.Scale(logits, beta), epsilon),
            DpoLossType.Hinge => Ops.Relu(Ops.AddScalar(Ops.Scale(logits, -beta), 1f)),
            DpoLossType.Ipo => Ops.Square(Ops.AddScalar(logits, -1f / (2f * beta))),
            _ => throw new ArgumentOutOfRangeException(nameof(options), $"{name}: unknown loss type {(int)options.LossType}"),
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

    /// <summary>[−(1−ε) log σ(z) + ε log σ(−z)] / (1 − 2ε), per element (TRL's "robust"; ε = 0 is the sigmoid loss).</summary>
    private static Tensor RobustLoss(Tensor z, float epsilon)
    {
        var loss = Ops.Scale(Ops.LogSigmoid(z), -(1f - epsilon));
        if (epsilon != 0f) loss = Ops.Add(loss, Ops.Scale(Ops.LogSigmoid(Ops.Neg(z)), epsilon));
        return Ops.Scale(loss, 1f / (1f - 2f * epsilon));
    }
}
