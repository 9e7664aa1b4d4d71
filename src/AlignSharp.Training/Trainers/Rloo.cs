// REINFORCE Leave-One-Out.
// Ahmadian et al. 2024, "Back to Basics: Revisiting REINFORCE Style Optimization for Learning from Human Feedback in
// LLMs", https://arxiv.org/abs/2402.14740; Kool et al. 2019, "Buy 4 REINFORCE Samples, Get a Baseline for Free!".
// TRL followed: the RLOOTrainer / RLOOConfig rewritten in TRL 0.2x on GRPOTrainer's structure (main as of late 2025,
// read from verbatim copies of rloo_trainer.py; the huggingface/trl snapshot at hand, 13b4eb95, is older): _generate_and_score_completions (reward − β·Σ_t(logπ_old − logπ_ref), leave-one-out baseline, optional
// whole-batch normalisation) and _compute_loss (clipped ratio of the *summed* sequence log-probs, mean over
// sequences). TRL's RLOOTrainer sets model_accepts_loss_kwargs = False, so HF's Trainer divides each micro-batch
// loss by gradient_accumulation_steps exactly as our Trainer does: Loss returns TRL's micro-batch value unchanged.
// Our extension, as for GRPO: a NaN reward (no reward function applied) gets advantage 0 and is left out of its
// group's baselines and of the normalisation (TRL nansums it to 0).
using System.ComponentModel;
using AlignSharp.Tensors;

namespace AlignSharp.Training.Trainers;

/// <summary>Options of RLOO (TRL's RLOOConfig keys and current defaults).</summary>
public sealed record RlooOptions : PolicyGradientOptions
{
    /// <summary>TRL's <c>num_generations</c>: completions per prompt (k, at least 2). Default 2.</summary>
    [Description("completions sampled per prompt (k, at least 2)")]
    public int NumGenerations { get; init; } = 2;

    /// <summary>TRL's <c>beta</c>: weight of the sequence's k1 KL (Σ_t logπ_old − logπ_ref) subtracted from its reward. Default 0.05.</summary>
    [Description("weight of the summed k1 KL to the reference subtracted from each reward (0: no reference model)")]
    public float Beta { get; init; } = 0.05f;

    /// <summary>TRL's <c>epsilon</c>: lower clipping bound 1 − ε of the sequence ratio. Default 0.2.</summary>
    [Description("clipping ε of the sequence ratio")]
    public float Epsilon { get; init; } = 0.2f;

    /// <summary>TRL's <c>epsilon_high</c>: upper bound 1 + ε_high. Default null: ε.</summary>
    [Description("upper clipping ε; null: epsilon")]
    public float? EpsilonHigh { get; init; }

    /// <summary>TRL's <c>normalize_advantages</c>: whiten the advantages over the whole batch ((A − mean) ÷ (std + 1e-4)). Default false.</summary>
    [Description("whiten the advantages over the whole generation batch")]
    public bool NormalizeAdvantages { get; init; }

    /// <summary>The upper clipping ε: <see cref="EpsilonHigh"/>, or <see cref="Epsilon"/> when unset.</summary>
    public float EffectiveEpsilonHigh => EpsilonHigh ?? Epsilon;
}

/// <summary>RLOO advantages of a generation batch with the statistics TRL logs.</summary>
/// <param name="Advantages">[N] per rollout (0 for a NaN reward).</param>
/// <param name="Rewards">[N] rewards after the KL penalty r − β·KL (NaN where the reward was NaN).</param>
/// <param name="GroupStd">[N / k] Bessel-corrected std of each group's penalised rewards.</param>
/// <param name="FracRewardZeroStd">TRL's frac_reward_zero_std: the fraction of groups whose penalised rewards are all equal.</param>
public sealed record RlooAdvantages(float[] Advantages, float[] Rewards, float[] GroupStd, float FracRewardZeroStd);

/// <summary>RLOO's advantages and loss as pure functions.</summary>
public static class Rloo
{
    /// <summary>Why these options cannot be used, in recipe terms (null when they can).</summary>
    internal static string? OptionsProblem(RlooOptions options)
    {
        if (options.NumGenerations < 2) return $"num_generations must be at least 2 (the baseline is the other completions' mean), got {options.NumGenerations}";
        if (Grpo.ClipProblem(options.Epsilon, options.EpsilonHigh, null) is { } clip) return clip;
        if (!(options.Beta >= 0f) || float.IsInfinity(options.Beta)) return $"beta must be a finite number ≥ 0, got {options.Beta}";
        return options.SamplingProblem();
    }

    /// <summary>[B] Σ_t m·(logπ_old − logπ_ref): the k1 KL of each sequence, as TRL subtracts it from the reward.</summary>
    /// <param name="oldPerTokenLogps">[B·T] sampling-time log-probs.</param>
    /// <param name="refPerTokenLogps">[B·T] reference log-probs.</param>
    /// <param name="mask">[B·T] completion mask.</param>
    /// <param name="t">Tokens per row T.</param>
    public static float[] SequenceKl(ReadOnlySpan<float> oldPerTokenLogps, ReadOnlySpan<float> refPerTokenLogps, ReadOnlySpan<float> mask, int t)
    {
        if (t < 1 || mask.Length % t != 0 || oldPerTokenLogps.Length != mask.Length || refPerTokenLogps.Length != mask.Length)
            throw new ArgumentException($"RLOO KL: old ({oldPerTokenLogps.Length}), ref ({refPerTokenLogps.Length}) and mask ({mask.Length}) must all be B·T with T = {t}");
        var kl = new float[mask.Length / t];
        for (int i = 0; i < kl.Length; i++)
        {
            double sum = 0;
            for (int j = i * t; j < (i + 1) * t; j++)
                if (mask[j] != 0f) sum += ((double)oldPerTokenLogps[j] - refPerTokenLogps[j]) * mask[j];
            kl[i] = (float)sum;
        }
        return kl;
    }

    /// <summary>
    /// r′ = r − β·KL; A_i = r′_i − mean of the other k − 1 penalised rewards of its group (leave-one-out baseline);
    /// with <paramref name="normalize"/>, A ← (A − mean A) ÷ (std A + 1e-4) over the whole batch (Bessel-corrected).
    /// A NaN reward gets advantage 0 and is left out of the baselines and the normalisation; a group's only valid
    /// reward gets advantage 0.
    /// </summary>
    /// <param name="rewards">[N] weighted reward sums, NaN where no reward function applied.</param>
    /// <param name="sequenceKl">[N] Σ_t k1 per sequence (<see cref="SequenceKl"/>); null when β = 0.</param>
    /// <param name="numGenerations">k, the group size; groups are consecutive.</param>
    /// <param name="beta">KL weight β.</param>
    /// <param name="normalize">TRL's normalize_advantages.</param>
    public static RlooAdvantages Advantages(ReadOnlySpan<float> rewards, float[]? sequenceKl, int numGenerations, float beta, bool normalize)
    {
        int n = rewards.Length;
        if (numGenerations < 2) throw new ArgumentOutOfRangeException(nameof(numGenerations), $"RLOO advantages: numGenerations must be ≥ 2, got {numGenerations}");
        if (n == 0 || n % numGenerations != 0) throw new ArgumentException($"RLOO advantages: {n} rewards do not form whole groups of {numGenerations}", nameof(rewards));
        if (beta != 0f && (sequenceKl is null || sequenceKl.Length != n))
            throw new ArgumentException($"RLOO advantages: beta {beta} needs one KL sum per reward ({n})", nameof(sequenceKl));

        var penalised = new float[n];
        for (int i = 0; i < n; i++)
            penalised[i] = beta == 0f ? rewards[i] : (float)(rewards[i] - (double)beta * sequenceKl![i]);

        int groups = n / numGenerations, zero = 0;
        var std = new float[groups];
        var advantages = new float[n];
        var valid = new bool[n];
        for (int g = 0; g < groups; g++)
        {
            var group = penalised.AsSpan(g * numGenerations, numGenerations);
            var (_, s) = Grpo.MeanStd(group);
            std[g] = (float)s;
            if (Math.Abs(s) <= 1e-8) zero++;
            double sum = 0;
            int count = 0;
            foreach (var r in group)
                if (!float.IsNaN(r)) { sum += r; count++; }
            for (int i = 0; i < numGenerations; i++)
            {
                int row = g * numGenerations + i;
                if (float.IsNaN(group[i]) || count < 2) continue;
                valid[row] = true;
                advantages[row] = (float)(group[i] - (sum - group[i]) / (count - 1));
            }
        }

        if (normalize)
        {
            var masked = new float[n];
            for (int i = 0; i < n; i++) masked[i] = valid[i] ? advantages[i] : float.NaN;
            var (mean, s) = Grpo.MeanStd(masked);
            for (int i = 0; i < n; i++) advantages[i] = valid[i] ? (float)((advantages[i] - mean) / (s + Grpo.StdEpsilon)) : 0f;
        }
        return new RlooAdvantages(advantages, penalised, std, (float)zero / groups);
    }

    /// <summary>
    /// The RLOO loss of one micro-batch (TRL's, before the Trainer's 1/GAS): w = exp(Σ_t m·logπ − Σ_t m·logπ_old)
    /// per sequence, ℓ = −min(w·A, clip(w, 1−ε, 1+ε_high)·A), loss = mean over the B sequences.
    /// Metrics: "clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean" (fractions of sequences, as
    /// TRL), "entropy" (masked token mean, when given).
    /// </summary>
    /// <param name="perTokenLogps">[B, T] log π of the completion tokens (with grad).</param>
    /// <param name="oldPerTokenLogps">[B·T] sampling-time log-probs; null: current values detached (w ≡ 1).</param>
    /// <param name="advantages">[B] from <see cref="Advantages"/>.</param>
    /// <param name="mask">[B·T] completion mask.</param>
    /// <param name="options">Clipping ε and ε_high.</param>
    /// <param name="entropy">[B·T] per-token entropies, only logged.</param>
    public static LossResult Loss(Tensor perTokenLogps, float[]? oldPerTokenLogps, ReadOnlySpan<float> advantages, ReadOnlySpan<float> mask,
        RlooOptions options, float[]? entropy = null)
    {
        const string name = "RLOO loss";
        if (OptionsProblem(options) is { } problem) throw new ArgumentException($"{name}: {problem}", nameof(options));
        var (b, t) = PolicyGradient.Shape(name, perTokenLogps, advantages.Length, mask.Length, oldPerTokenLogps, entropy);
        if (advantages.Length != b) throw new ArgumentException($"{name}: RLOO takes one advantage per sequence, got {advantages.Length} for {b}", nameof(advantages));

        var maskTensor = Tensor.FromArray(mask, b, t);
        var logps = Ops.SumLastAxis(Ops.Mul(perTokenLogps, maskTensor));                            // [B]
        var oldLogps = logps.ToArray();
        if (oldPerTokenLogps is not null)
            for (int i = 0; i < b; i++)
            {
                double sum = 0;
                for (int j = 0; j < t; j++) sum += (double)oldPerTokenLogps[i * t + j] * mask[i * t + j];
                oldLogps[i] = (float)sum;
            }
        var ratio = Ops.Exp(Ops.Sub(logps, Tensor.FromArray(oldLogps, b)));                        // w [B]
        var surrogate = new ClippedSurrogate(options.Epsilon, options.EffectiveEpsilonHigh, null).Apply(ratio.ToArray(), advantages.ToArray());
        var weight = new float[b];
        Array.Fill(weight, 1f / b);
        var loss = surrogate.Weighted(ratio, weight);

        var metrics = new Dictionary<string, float>();
        surrogate.AddClipMetrics(metrics, null);
        if (entropy is not null) metrics["entropy"] = PolicyGradient.MaskedMean(entropy, mask);
        return new LossResult(loss, metrics);
    }
}
