// Odds Ratio Preference Optimization.
// Hong et al. 2024, "ORPO: Monolithic Preference Optimization without Reference Model", https://arxiv.org/abs/2403.07691.
// Follows TRL's ORPOTrainer (concatenated_forward, odds_ratio_loss, get_batch_loss_metrics) as it has been from v0.9
// (May 2024) through v0.28 and current TRL (trl.experimental.orpo): the SFT term is the cross-entropy of every attended
// token of the chosen rows, prompt included, one token mean over the batch; the odds ratio uses the per-token average
// log-probs of the completions.
using System.ComponentModel;
using AlignSharp.Tensors;
using AlignSharp.Training.Data;

namespace AlignSharp.Training.Trainers;

/// <summary>Options of the ORPO loss (TRL's ORPOConfig, with its defaults).</summary>
public sealed record OrpoOptions
{
    /// <summary>TRL's <c>beta</c>, the paper's λ: weight of the odds-ratio term against the SFT loss. Default 0.1.</summary>
    [Description("weight λ of the odds-ratio term against the SFT loss on the chosen rows")]
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
    /// The ORPO loss of a preference batch from the policy's logits: NLL(chosen rows) − β·mean(log σ(ℓ)), where the NLL
    /// is the token-mean cross-entropy of every attended token of the chosen rows (prompt and completion; a row's first
    /// token is never predicted) and ℓ = log odds(y_c) − log odds(y_r), log odds(y) = ā − log(1 − e^ā), ā the per-token
    /// average log-prob of the completion.
    /// Metrics (TRL's names): "rewards/chosen" (mean βā_c), "rewards/rejected", "rewards/accuracies", "rewards/margins",
    /// "logps/chosen", "logps/rejected" (mean ā), "nll_loss", "log_odds_ratio" (mean log σ(ℓ)), "log_odds_chosen" (mean ℓ).
    /// </summary>
    /// <param name="logits">[2B, T, V] logits of <paramref name="batch"/>'s rows (with grad): position t scores token t + 1.</param>
    /// <param name="batch">The collated pairs: rows [0, B) prompt + chosen, [B, 2B) prompt + rejected, labels on completions only.</param>
    /// <param name="options">Defaults to TRL's.</param>
    public static LossResult Loss(Tensor logits, PreferenceBatch batch, OrpoOptions? options = null)
    {
        const string name = "ORPO loss";
        options ??= new OrpoOptions();
        LossHelpers.RequirePositive(name, nameof(OrpoOptions.Beta), options.Beta);
        var seq = batch.Sequences;
        int n = batch.Pairs, t = seq.T;
        if (logits.Rank != 3 || logits.Dim(0) != seq.B || logits.Dim(1) != t)
            throw new ArgumentException($"{name}: logits must be [{seq.B}, {t}, V] for this batch, got [{string.Join(", ", logits.Shape.ToArray())}]", nameof(logits));

        // One gather of log π(next token) for what either term needs: every attended next token of a chosen row (the
        // NLL), and the completion tokens of a rejected row. Completion tokens are attended, so the chosen rows' completion
        // log-probs are among the first.
        var targets = new int[seq.B * t];
        var completion = new float[seq.B * t];          // 1 where the next token is a completion label
        var completionCounts = new int[seq.B];
        int nllTokens = 0;
        for (int r = 0; r < seq.B; r++)
            for (int p = 0; p < t; p++)
            {
                int i = r * t + p, next = i + 1;
                bool inRow = p + 1 < t;
                bool isLabel = inRow && seq.Labels[next] != Ops.IgnoreIndex;
                bool attended = inRow && seq.AttentionMask[next] != 0f;
                if (isLabel) { completion[i] = 1f; completionCounts[r]++; }
                targets[i] = (r < n ? attended : isLabel) ? seq.InputIds[next] : Ops.IgnoreIndex;
                if (r < n && attended) nllTokens++;
            }
        var perToken = Ops.TokenLogProbs(logits, targets).Reshape(seq.B, t);                     // 0 where ignored
        var sums = Ops.SumLastAxis(Ops.Mul(perToken, Tensor.FromArray(completion, seq.B, t))); // [2B] completion Σ
        var average = SequenceLogProbs.Average(sums, completionCounts);
        var nll = Ops.Scale(Ops.Sum(Ops.Narrow(perToken, 0, 0, n)), -1f / Math.Max(1, nllTokens)); // scalar

        var oddsRatio = OddsRatioLoss(SequenceLogProbs.Rows(average, 0, n), SequenceLogProbs.Rows(average, n, n), options.Beta);
        var loss = Ops.Add(nll, oddsRatio.Loss);
        var metrics = LossHelpers.ScaledRewardMetrics(options.Beta, SequenceLogProbs.Rows(average, 0, n), SequenceLogProbs.Rows(average, n, n));
        metrics["nll_loss"] = nll.Item();
        foreach (var (key, value) in oddsRatio.Metrics) metrics[key] = value;
        return new LossResult(loss, metrics);
    }

    /// <summary>
    /// The odds-ratio term alone: −β·mean(log σ(ℓ)), ℓ = [ā_c − log(1 − e^ā_c)] − [ā_r − log(1 − e^ā_r)].
    /// Metrics: "log_odds_ratio" (mean log σ(ℓ)), "log_odds_chosen" (mean ℓ).
    /// </summary>
    /// <param name="chosenAverageLogps">[B] per-token average log π(y_c|x) over completion tokens (with grad).</param>
    /// <param name="rejectedAverageLogps">[B] per-token average log π(y_r|x) (with grad).</param>
    /// <param name="beta">λ, TRL's <c>beta</c>.</param>
    public static LossResult OddsRatioLoss(Tensor chosenAverageLogps, Tensor rejectedAverageLogps, float beta)
    {
        const string name = "ORPO odds-ratio loss";
        LossHelpers.RequirePositive(name, nameof(OrpoOptions.Beta), beta);
        LossHelpers.BatchSize(name, (nameof(chosenAverageLogps), chosenAverageLogps), (nameof(rejectedAverageLogps), rejectedAverageLogps));
        var logOdds = Ops.Sub(                                                              // ℓ [B]
            Ops.Sub(chosenAverageLogps, rejectedAverageLogps),
            Ops.Sub(Log1MinusExp(chosenAverageLogps), Log1MinusExp(rejectedAverageLogps)));
        var ratio = Ops.LogSigmoid(logOdds);                                                // [B]
        var loss = Ops.Scale(Ops.Mean(ratio), -beta);                                       // scalar
        var metrics = new Dictionary<string, float>
        {
            ["log_odds_ratio"] = LossHelpers.Mean(ratio.ToArray()),
            ["log_odds_chosen"] = LossHelpers.Mean(logOdds.ToArray()),
        };
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
