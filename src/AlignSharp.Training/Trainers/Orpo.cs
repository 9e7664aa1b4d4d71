// Odds Ratio Preference Optimization.
// Hong et al. 2024, "ORPO: Monolithic Preference Optimization without Reference Model", https://arxiv.org/abs/2403.07691.
// Follows TRL's ORPOTrainer (odds_ratio_loss, get_batch_loss_metrics).
using AlignSharp.Tensors;

namespace AlignSharp.Training.Trainers;

/// <summary>Options of the ORPO loss (TRL's ORPOConfig, with its defaults).</summary>
public sealed record OrpoOptions
{
    /// <summary>TRL's <c>beta</c>, the paper's λ: weight of the odds-ratio term against the SFT loss. Default 0.1.</summary>
    public float Beta { get; init; } = 0.1f;
}

/// <summary>ORPO: supervised fine-tuning plus an odds-ratio preference term, with no reference model.</summary>
public static partial class Orpo
{
    /// <summary>
    /// Average log-probs at or above this are treated as this (a completion the model already reproduces exactly):
    /// log(1 − e^ā) diverges at ā = 0, and a float32 average log-prob can be exactly 0.
    /// </summary>
    public const float MaxAverageLogp = -1e-7f;

    /// <summary>
    /// log odds(y) = ā − log(1 − e^ā) with ā the per-token average log-prob; per pair
    /// ℓ = log odds(y_c) − log odds(y_r); loss = NLL(y_c) − β·mean(log σ(ℓ)).
    /// Metrics (TRL's names): "rewards/chosen" (mean βā_c), "rewards/rejected", "rewards/accuracies", "rewards/margins",
    /// "logps/chosen", "logps/rejected" (mean ā), "nll_loss", "log_odds_ratio" (mean log σ(ℓ)), "log_odds_chosen" (mean ℓ).
    /// </summary>
    /// <param name="chosenAverageLogps">[B] per-token average log π(y_c|x) over completion tokens (with grad), e.g. <see cref="Ops.MaskedMean"/> of token log-probs.</param>
    /// <param name="rejectedAverageLogps">[B] per-token average log π(y_r|x) (with grad).</param>
    /// <param name="chosenNll">Scalar SFT cross-entropy of the chosen completions (with grad), TRL's token-level mean over the batch, e.g. <see cref="Ops.CrossEntropy"/>.</param>
    /// <param name="options">Defaults to TRL's.</param>
    public static LossResult Loss(Tensor chosenAverageLogps, Tensor rejectedAverageLogps, Tensor chosenNll, OrpoOptions? options = null)
    {
        const string name = "ORPO loss";
        options ??= new OrpoOptions();
        float beta = options.Beta;
        LossHelpers.RequirePositive(name, nameof(OrpoOptions.Beta), beta);
        int b = LossHelpers.BatchSize(name, (nameof(chosenAverageLogps), chosenAverageLogps), (nameof(rejectedAverageLogps), rejectedAverageLogps));
        if (chosenNll.Length != 1)
            throw new ArgumentException($"{name}: chosenNll must be a scalar (the mean cross-entropy), got {chosenNll.Length} elements", nameof(chosenNll));

        var logOdds = Ops.Sub(                                                              // ℓ [B]
            Ops.Sub(chosenAverageLogps, rejectedAverageLogps),
            Ops.Sub(Log1MinusExp(chosenAverageLogps), Log1MinusExp(rejectedAverageLogps)));
        var ratio = Ops.LogSigmoid(logOdds);                                                // [B]
        var loss = Ops.Sub(chosenNll.Reshape(), Ops.Scale(Ops.Mean(ratio), beta));          // scalar

        var metrics = LossHelpers.ScaledRewardMetrics(beta, chosenAverageLogps, rejectedAverageLogps);
        metrics["nll_loss"] = chosenNll.ToArray()[0];
        metrics["log_odds_ratio"] = LossHelpers.Mean(ratio.ToArray());
        metrics["log_odds_chosen"] = LossHelpers.Mean(logOdds.ToArray());
        return new LossResult(loss, metrics);
    }

    /// <summary>
    /// log(1 − eˣ) for x &lt; 0, composed so that both the value and the gradient −eˣ/(1 − eˣ) keep full relative
    /// precision as x → 0⁻, where 1 − eˣ would cancel (Mächler 2012, "Accurately computing log(1 − exp(−|a|))"):
    /// for x &gt; −ln 2, log(−expm1(x)) = log(−x) + log(p(x)) with expm1(x) = x·p(x), p(x) = Σₖ xᵏ/(k+1)! summed by Horner
    /// to k = 9 (truncation below 1e-8 relative on [−ln 2, 0]); for x ≤ −ln 2, log(1 − eˣ) directly (1 − eˣ ≥ ½).
    /// The two branches are blended by a constant 0/1 mask, each on inputs clamped to its own range so that the unused
    /// branch stays finite. Inputs are clamped to <see cref="MaxAverageLogp"/>.
    /// </summary>
    internal static Tensor Log1MinusExp(Tensor x)
    {
        const float ln2 = 0.6931472f;
        var values = x.ToArray();
        var nearZero = new float[values.Length];
        var farFromZero = new float[values.Length];
        for (int i = 0; i < values.Length; i++) (nearZero[i], farFromZero[i]) = values[i] > -ln2 ? (1f, 0f) : (0f, 1f);

        var small = Ops.Clamp(x, -ln2, MaxAverageLogp);
        var series = Tensor.Ones(x.Shape.ToArray());
        for (int k = 10; k >= 2; k--) series = Ops.AddScalar(Ops.Mul(Ops.Scale(small, 1f / k), series), 1f);
        var nearBranch = Ops.Add(Ops.Log(Ops.Neg(small)), Ops.Log(series));

        var large = Ops.Clamp(x, float.NegativeInfinity, -ln2);
        var farBranch = Ops.Log(Ops.AddScalar(Ops.Neg(Ops.Exp(large)), 1f));

        return Ops.Add(Ops.Mul(nearBranch, LossHelpers.Constant(nearZero)), Ops.Mul(farBranch, LossHelpers.Constant(farFromZero)));
    }
}
