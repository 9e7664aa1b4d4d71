// Kahneman–Tversky Optimization.
// Ethayarajh et al. 2024, "KTO: Model Alignment as Prospect Theoretic Optimization", https://arxiv.org/abs/2402.01306.
// Follows TRL's KTOTrainer.kto_loss (loss_type "kto"), the same in v0.28 and current TRL.
using System.ComponentModel;
using AlignSharp.Tensors;

namespace AlignSharp.Training.Trainers;

/// <summary>Options of the KTO loss (TRL's KTOConfig, with its defaults).</summary>
public sealed record KtoOptions
{
    /// <summary>TRL's <c>beta</c>: how sharply the value function saturates, and so how far from the reference the policy may move. Default 0.1.</summary>
    [Description("how sharply the value function saturates: higher keeps the policy closer to the reference")]
    public float Beta { get; init; } = 0.1f;

    /// <summary>
    /// TRL's <c>desirable_weight</c> λ_D. With unbalanced data the paper recommends λ_D·n_D / (λ_U·n_U) in [1, 4/3]. Default 1.
    /// </summary>
    [Description("weight λ_D of desirable examples (keep λ_D·n_D / (λ_U·n_U) in [1, 4/3])")]
    public float DesirableWeight { get; init; } = 1f;

    /// <summary>TRL's <c>undesirable_weight</c> λ_U. Default 1.</summary>
    [Description("weight λ_U of undesirable examples")]
    public float UndesirableWeight { get; init; } = 1f;
}

/// <summary>Kahneman–Tversky Optimization: alignment from unpaired thumbs-up / thumbs-down completions.</summary>
public static partial class Kto
{
    /// <summary>
    /// r = log π(y|x) − log π_ref(y|x); z₀ = max(0, mean(log π(y′|x) − log π_ref(y′|x))) over mismatched pairs, a constant;
    /// desirable: λ_D(1 − σ(β(r − z₀))), undesirable: λ_U(1 − σ(β(z₀ − r))); the loss is the mean over the whole batch
    /// (TRL concatenates the two groups and takes one mean).
    /// Metrics: "kl" (z₀), "rewards/chosen" (mean βr over desirable examples), "rewards/rejected" (over undesirable ones),
    /// "logps/chosen", "logps/rejected" (mean policy log-probs of each group); a group absent from the batch reads 0.
    /// </summary>
    /// <param name="policyLogps">[B] Σ over completion tokens of log π(y|x) (with grad).</param>
    /// <param name="referenceLogps">[B] Σ log π_ref(y|x); a constant.</param>
    /// <param name="desirable">[B] true for a desirable (thumbs-up) completion, false for an undesirable one.</param>
    /// <param name="policyKlLogps">[B] Σ log π(y′|x) of mismatched pairs (x, y′), y′ a completion of another prompt; a constant.</param>
    /// <param name="referenceKlLogps">[B] Σ log π_ref(y′|x) of the same mismatched pairs; a constant.</param>
    /// <param name="options">Defaults to TRL's.</param>
    public static LossResult Loss(
        Tensor policyLogps, Tensor referenceLogps, ReadOnlySpan<bool> desirable,
        Tensor policyKlLogps, Tensor referenceKlLogps, KtoOptions? options = null)
    {
        const string name = "KTO loss";
        options ??= new KtoOptions();
        float beta = options.Beta;
        LossHelpers.RequirePositive(name, nameof(KtoOptions.Beta), beta);
        LossHelpers.RequirePositive(name, nameof(KtoOptions.DesirableWeight), options.DesirableWeight);
        LossHelpers.RequirePositive(name, nameof(KtoOptions.UndesirableWeight), options.UndesirableWeight);
        int b = LossHelpers.BatchSize(name, (nameof(policyLogps), policyLogps), (nameof(referenceLogps), referenceLogps));
        LossHelpers.RequireLength(name, nameof(desirable), desirable.Length, b);
        int klBatch = LossHelpers.BatchSize(name, (nameof(policyKlLogps), policyKlLogps), (nameof(referenceKlLogps), referenceKlLogps));

        // z₀: the batch estimate of KL(π ‖ π_ref), detached and clamped at 0 (the paper's reference point).
        float[] policyKl = policyKlLogps.ToArray(), referenceKl = referenceKlLogps.ToArray();
        double klSum = 0;
        for (int i = 0; i < klBatch; i++) klSum += (double)policyKl[i] - referenceKl[i];
        float z0 = (float)Math.Max(0.0, klSum / klBatch);

        // Both groups as one [B] expression: loss_i = w_i·σ(−s_i·β(r_i − z₀)) = w_i(1 − σ(s_i·β(r_i − z₀))),
        // with s_i = +1, w_i = λ_D for desirable and s_i = −1, w_i = λ_U for undesirable examples.
        var slope = new float[b];
        var weight = new float[b];
        for (int i = 0; i < b; i++)
        {
            slope[i] = desirable[i] ? -beta : beta;
            weight[i] = desirable[i] ? options.DesirableWeight : options.UndesirableWeight;
        }
        var reference = referenceLogps.ToArray();
        var logratios = Ops.Sub(policyLogps, LossHelpers.Constant(reference));                                   // r [B]
        var losses = Ops.Mul(Ops.Sigmoid(Ops.Mul(Ops.AddScalar(logratios, -z0), LossHelpers.Constant(slope))), LossHelpers.Constant(weight)); // [B]
        var loss = Ops.Mean(losses);

        var policy = policyLogps.ToArray();
        var chosenRewards = new List<float>();
        var rejectedRewards = new List<float>();
        var chosenLogps = new List<float>();
        var rejectedLogps = new List<float>();
        for (int i = 0; i < b; i++)
        {
            float reward = (float)(beta * ((double)policy[i] - reference[i]));
            (desirable[i] ? chosenRewards : rejectedRewards).Add(reward);
            (desirable[i] ? chosenLogps : rejectedLogps).Add(policy[i]);
        }
        var metrics = new Dictionary<string, float>
        {
            ["kl"] = z0,
            ["rewards/chosen"] = LossHelpers.Mean(chosenRewards.ToArray()),
            ["rewards/rejected"] = LossHelpers.Mean(rejectedRewards.ToArray()),
            ["logps/chosen"] = LossHelpers.Mean(chosenLogps.ToArray()),
            ["logps/rejected"] = LossHelpers.Mean(rejectedLogps.ToArray()),
        };
        return new LossResult(loss, metrics);
    }
}
