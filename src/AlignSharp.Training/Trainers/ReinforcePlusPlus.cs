// REINFORCE++.
// Hu 2025, "REINFORCE++: A Simple and Efficient Approach for Aligning Large Language Models",
// https://arxiv.org/abs/2501.03262.
// Followed: OpenRLHF's advantage_estimator "reinforce" (openrlhf/trainer/ppo_utils/experience_maker.py, current main,
// late 2025): compute_reward (per-token reward −β·k1_t, k1_t = logπ_old − logπ_ref, plus the score at the last active
// token), get_cumulative_returns (reverse cumulative sum over the mask, γ = 1 by default) and the global advantage
// normalisation over every active token of the batch ((A − mean) · rsqrt(max(var, 1e-8)), population variance);
// openrlhf/models/loss.py PolicyLoss (token-level clipped surrogate, masked token mean over the micro-batch,
// token_level_loss true). OpenRLHF's DeepSpeed engine divides each micro-batch loss by gradient_accumulation_steps,
// as our Trainer does, so Loss returns the micro-batch value unchanged.
using System.ComponentModel;
using AlignSharp.Tensors;

namespace AlignSharp.Training.Trainers;

/// <summary>Options of REINFORCE++ (OpenRLHF's argument names and defaults where TRL has none).</summary>
public sealed record ReinforcePlusPlusOptions : PolicyGradientOptions
{
    /// <summary>OpenRLHF's <c>n_samples_per_prompt</c>: completions per prompt. Default 1 (REINFORCE++ needs no group).</summary>
    [Description("completions sampled per prompt (REINFORCE++ needs no group; 1 is fine)")]
    public int NumGenerations { get; init; } = 1;

    /// <summary>OpenRLHF's <c>init_kl_coef</c> β: weight of the per-token k1 KL penalty in the reward. Default 0.01.</summary>
    [Description("weight β of the per-token k1 KL penalty to the reference in the reward (0: no reference model)")]
    public float Beta { get; init; } = 0.01f;

    /// <summary>OpenRLHF's <c>gamma</c>: discount of the returns. Default 1.</summary>
    [Description("discount γ of the per-token returns")]
    public float Gamma { get; init; } = 1f;

    /// <summary>OpenRLHF's <c>eps_clip</c> (lower) clipping ε of the token ratio. Default 0.2.</summary>
    [Description("clipping ε of the per-token ratio")]
    public float Epsilon { get; init; } = 0.2f;

    /// <summary>Upper clipping ε (OpenRLHF's <c>eps_clip_low_high</c> second value). Default null: ε.</summary>
    [Description("upper clipping ε; null: epsilon")]
    public float? EpsilonHigh { get; init; }

    /// <summary>Whether the advantages are divided by their std after centring (OpenRLHF's <c>no_advantage_std_norm</c> negated). Default true.</summary>
    [Description("divide the centred advantages by their std over all active tokens of the batch")]
    public bool AdvantageStdNorm { get; init; } = true;

    /// <summary>The upper clipping ε: <see cref="EpsilonHigh"/>, or <see cref="Epsilon"/> when unset.</summary>
    public float EffectiveEpsilonHigh => EpsilonHigh ?? Epsilon;
}

/// <summary>REINFORCE++ per-token advantages of a generation batch.</summary>
/// <param name="Advantages">[B·T] whitened returns (0 at masked tokens).</param>
/// <param name="Returns">[B·T] reverse cumulative sums of the per-token rewards (before whitening).</param>
/// <param name="Mean">Mean of the returns over the active tokens.</param>
/// <param name="Std">Population std of the returns over the active tokens.</param>
public sealed record TokenAdvantages(float[] Advantages, float[] Returns, float Mean, float Std);

/// <summary>REINFORCE++ (global advantage normalisation, KL in the reward) as pure functions.</summary>
public static class ReinforcePlusPlus
{
    /// <summary>Why these options cannot be used, in recipe terms (null when they can).</summary>
    internal static string? OptionsProblem(ReinforcePlusPlusOptions options)
    {
        if (options.NumGenerations < 1) return $"num_generations must be at least 1, got {options.NumGenerations}";
        if (Grpo.ClipProblem(options.Epsilon, options.EpsilonHigh, null) is { } clip) return clip;
        if (!(options.Beta >= 0f) || float.IsInfinity(options.Beta)) return $"beta must be a finite number ≥ 0, got {options.Beta}";
        if (!(options.Gamma > 0f && options.Gamma <= 1f)) return $"gamma must be in (0, 1], got {options.Gamma}";
        return options.SamplingProblem();
    }

    /// <summary>
    /// r_t = −β·(logπ_old − logπ_ref)_t·m_t, plus the score at the row's last active token; G_t = Σ_{s ≥ t} γ^{s−t} r_s;
    /// A = (G − mean) · rsqrt(max(var, 1e-8)) with mean and population variance over every active token of the
    /// batch (without std normalisation: A = G − mean). A row with no active token contributes nothing (its score
    /// is dropped, as OpenRLHF's masked returns drop it). A NaN score (no reward function applied) counts as no score:
    /// only the KL terms remain in that row's returns.
    /// </summary>
    /// <param name="scores">[B] weighted reward sums, NaN where no reward function applied.</param>
    /// <param name="oldPerTokenLogps">[B·T] sampling-time log-probs.</param>
    /// <param name="refPerTokenLogps">[B·T] reference log-probs; null when β = 0.</param>
    /// <param name="mask">[B·T] completion mask.</param>
    /// <param name="options">β, γ and whether to divide by the std.</param>
    public static TokenAdvantages Advantages(ReadOnlySpan<float> scores, float[]? oldPerTokenLogps, float[]? refPerTokenLogps,
        ReadOnlySpan<float> mask, ReinforcePlusPlusOptions options)
    {
        const string name = "REINFORCE++ advantages";
        if (OptionsProblem(options) is { } problem) throw new ArgumentException($"{name}: {problem}", nameof(options));
        int b = scores.Length;
        if (b == 0 || mask.Length % b != 0) throw new ArgumentException($"{name}: mask has {mask.Length} entries for {b} scores; expected B·T", nameof(mask));
        int t = mask.Length / b;
        if (options.Beta != 0f && (oldPerTokenLogps?.Length != mask.Length || refPerTokenLogps?.Length != mask.Length))
            throw new ArgumentException($"{name}: beta {options.Beta} needs old and reference log-probs of B·T = {mask.Length} entries");

        var returns = new float[b * t];
        double sum = 0, count = 0;
        for (int i = 0; i < b; i++)
        {
            int last = -1;
            for (int j = t - 1; j >= 0 && last < 0; j--)
                if (mask[i * t + j] != 0f) last = j;
            double running = 0;
            for (int j = t - 1; j >= 0; j--)
            {
                int k = i * t + j;
                double reward = 0;
                if (mask[k] != 0f)
                {
                    if (options.Beta != 0f) reward -= options.Beta * ((double)oldPerTokenLogps![k] - refPerTokenLogps![k]) * mask[k];
                    if (j == last && !float.IsNaN(scores[i])) reward += scores[i] * mask[k];
                }
                running = reward + options.Gamma * running;
                returns[k] = (float)running;
                sum += running * mask[k];
                count += mask[k];
            }
        }

        var advantages = new float[b * t];
        if (count == 0) return new TokenAdvantages(advantages, returns, 0f, 0f);
        double mean = sum / count, squares = 0;
        for (int k = 0; k < b * t; k++) squares += (returns[k] - mean) * (returns[k] - mean) * mask[k];
        double variance = squares / count;
        double rstd = options.AdvantageStdNorm ? 1.0 / Math.Sqrt(Math.Max(variance, 1e-8)) : 1.0;
        for (int k = 0; k < b * t; k++) advantages[k] = mask[k] != 0f ? (float)((returns[k] - mean) * rstd) : 0f;
        return new TokenAdvantages(advantages, returns, (float)mean, (float)Math.Sqrt(variance));
    }

    /// <summary>
    /// The REINFORCE++ loss of one micro-batch: w_t = exp(logπ − logπ_old), ℓ_t = −min(w_t·A_t, clip(w_t, 1−ε, 1+ε_high)·A_t),
    /// loss = Σ m·ℓ ÷ max(Σ m, 1) (OpenRLHF's token-level masked mean).
    /// Metrics: "clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean" (TRL's names: token fractions
    /// clipped below with A &lt; 0, above with A &gt; 0, either), "ppo_kl" (OpenRLHF's: masked mean of logπ_old − logπ),
    /// "entropy" (when given).
    /// </summary>
    /// <param name="perTokenLogps">[B, T] log π of the completion tokens (with grad).</param>
    /// <param name="oldPerTokenLogps">[B·T] sampling-time log-probs; null: current values detached (w ≡ 1).</param>
    /// <param name="advantages">[B·T] from <see cref="Advantages"/>.</param>
    /// <param name="mask">[B·T] completion mask.</param>
    /// <param name="options">Clipping ε and ε_high.</param>
    /// <param name="entropy">[B·T] per-token entropies, only logged.</param>
    public static LossResult Loss(Tensor perTokenLogps, float[]? oldPerTokenLogps, ReadOnlySpan<float> advantages, ReadOnlySpan<float> mask,
        ReinforcePlusPlusOptions options, float[]? entropy = null)
    {
        const string name = "REINFORCE++ loss";
        if (OptionsProblem(options) is { } problem) throw new ArgumentException($"{name}: {problem}", nameof(options));
        var (b, t) = PolicyGradient.Shape(name, perTokenLogps, advantages.Length, mask.Length, oldPerTokenLogps, entropy);
        if (advantages.Length != b * t) throw new ArgumentException($"{name}: REINFORCE++ takes per-token advantages (B·T = {b * t}), got {advantages.Length}", nameof(advantages));

        var current = perTokenLogps.ToArray();
        var old = oldPerTokenLogps ?? current;
        var ratio = Ops.Exp(Ops.Sub(perTokenLogps, Tensor.FromArray(old, b, t)));                   // w [B, T]
        var surrogate = new ClippedSurrogate(options.Epsilon, options.EffectiveEpsilonHigh, null).Apply(ratio.ToArray(), advantages.ToArray());
        double active = 0;
        foreach (var m in mask) active += m;
        var weight = new float[b * t];
        for (int k = 0; k < b * t; k++) weight[k] = (float)(mask[k] / Math.Max(active, 1.0));
        var loss = surrogate.Weighted(ratio, weight);

        var metrics = new Dictionary<string, float>();
        surrogate.AddClipMetrics(metrics, mask);
        var kl = new float[b * t];
        for (int k = 0; k < b * t; k++) kl[k] = old[k] - current[k];
        metrics["ppo_kl"] = PolicyGradient.MaskedMean(kl, mask);
        if (entropy is not null) metrics["entropy"] = PolicyGradient.MaskedMean(entropy, mask);
        return new LossResult(loss, metrics);
    }
}
