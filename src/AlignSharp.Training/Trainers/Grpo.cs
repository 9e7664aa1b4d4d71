// Group Relative Policy Optimization.
// Shao et al. 2024, "DeepSeekMath: Pushing the Limits of Mathematical Reasoning in Open Language Models",
// https://arxiv.org/abs/2402.03300 (GRPO: group-normalised advantages, clipped ratio, k3 KL to a reference).
// Yu et al. 2025, "DAPO: An Open-Source LLM Reinforcement Learning System at Scale", https://arxiv.org/abs/2503.14476
// (loss_type dapo: token-level aggregation over the generation batch; clip-higher epsilon_high; dynamic sampling).
// Liu et al. 2025, "Understanding R1-Zero-Like Training: A Critical Perspective", https://arxiv.org/abs/2503.20783
// (Dr. GRPO: sum ÷ (B × max_completion_length), scale_rewards none).
// Zheng et al. 2025, "Group Sequence Policy Optimization", https://arxiv.org/abs/2507.18071 (GSPO:
// importance_sampling_level sequence). Two-sided clipping (delta): INTELLECT-2, Prime Intellect 2025, https://arxiv.org/abs/2505.07291.
// TRL followed: GRPOTrainer / GRPOConfig of TRL main as of late 2025 (GRPOConfig defaults loss_type "dapo",
// scale_rewards "group", top_k 0; the trainer passes compute_loss_func="non-None value to disable scaling" so that HF's
// Trainer does not divide by gradient_accumulation_steps): _generate_and_score_completions (advantages, std_rewards,
// num_items_in_batch) and _compute_loss (ratio, delta, clipping, aggregation, metrics). Read from verbatim copies of
// those functions; the huggingface/trl snapshot at hand (grpo_trainer.py d2b69d76) predates scale_rewards "batch" and
// loss_type "dapo", so no single commit id is given.
//
// Gradient accumulation. TRL's loss per micro-batch is agg/GAS for grpo, bnpo and dr_grpo, and Σℓ ÷ (N_gen / processes)
// for dapo (N_gen = completion tokens of the whole generation batch, all processes, counted before
// mask_truncated_completions zeroes truncated rows), and HF adds no scaling. Our Trainer multiplies every micro-batch
// loss by 1/GAS before backward, so Loss returns agg for grpo/bnpo/dr_grpo and Σℓ·GAS/N_gen for dapo: after our
// scaling each optimizer step's gradient equals TRL's (one process).
//
// Our extension: a NaN reward means no reward function applied to that rollout. TRL nansums such a row to 0 and
// lets it into its group's mean and std; here it gets advantage 0 and is left out of its group's and the batch's
// mean and std.
using System.ComponentModel;
using AlignSharp.Tensors;

namespace AlignSharp.Training.Trainers;

/// <summary>How GRPO aggregates per-token losses into the micro-batch loss; a recipe spells them as TRL's <c>loss_type</c>.</summary>
public enum GrpoLossType
{
    /// <summary>["grpo"] mean over sequences of each sequence's token mean (DeepSeekMath).</summary>
    Grpo,

    /// <summary>["bnpo"] Σ ℓ ÷ active tokens of the micro-batch.</summary>
    Bnpo,

    /// <summary>["dr_grpo"] Σ ℓ ÷ (B × max_completion_length) (Dr. GRPO).</summary>
    DrGrpo,

    /// <summary>["dapo"] Σ ℓ ÷ active tokens of the whole generation batch (DAPO; TRL's default).</summary>
    Dapo,
}

/// <summary>What the group-centred rewards are divided by; TRL's <c>scale_rewards</c>.</summary>
public enum RewardScaling
{
    /// <summary>["group"] the group's std (Bessel-corrected) + 1e-4.</summary>
    Group,

    /// <summary>["batch"] the whole batch's std (Bessel-corrected) + 1e-4; the group mean is still what is subtracted.</summary>
    Batch,

    /// <summary>["none"] not scaled (Dr. GRPO).</summary>
    None,
}

/// <summary>Where the importance ratio is taken; TRL's <c>importance_sampling_level</c>.</summary>
public enum ImportanceSamplingLevel
{
    /// <summary>["token"] w_t = exp(log π − log π_old) per token.</summary>
    Token,

    /// <summary>["sequence"] w = exp(mean over the completion of the log-ratio), one per sequence (GSPO).</summary>
    Sequence,
}

/// <summary>
/// The generation and reuse keys every policy-gradient method shares (TRL's GRPOConfig/RLOOConfig names and defaults):
/// num_iterations, mask_truncated_completions, max_completion_length, max_prompt_length, temperature, top_p, top_k,
/// steps_per_generation.
/// </summary>
public abstract record PolicyGradientOptions
{
    /// <summary>TRL's <c>num_iterations</c> (μ): optimisation passes over each generation batch. Default 1.</summary>
    [Description("passes over each generation batch (μ); above 1 the ratio departs from 1")]
    public int NumIterations { get; init; } = 1;

    /// <summary>TRL's <c>mask_truncated_completions</c>: completions cut at max_completion_length get no loss. Default false.</summary>
    [Description("exclude completions that hit max_completion_length from the loss")]
    public bool MaskTruncatedCompletions { get; init; }

    /// <summary>TRL's <c>max_completion_length</c>: most tokens generated per completion. Default 256.</summary>
    [Description("most tokens generated per completion")]
    public int MaxCompletionLength { get; init; } = 256;

    /// <summary>TRL's <c>max_prompt_length</c>: prompts are cut to their last tokens beyond it; null: no cut. Default 512.</summary>
    [Description("prompts longer than this keep their last tokens (null: no cut)")]
    public int? MaxPromptLength { get; init; } = 512;

    /// <summary>TRL's <c>temperature</c> of sampling (the training forward divides logits by it too). Default 1.</summary>
    [Description("sampling temperature")]
    public float Temperature { get; init; } = 1f;

    /// <summary>TRL's <c>top_p</c>: nucleus sampling mass in (0, 1]. Default 1 (off).</summary>
    [Description("nucleus sampling mass in (0, 1]; 1 is off")]
    public float TopP { get; init; } = 1f;

    /// <summary>TRL's <c>top_k</c>: sample among the k likeliest tokens; 0 is off. Default 0.</summary>
    [Description("sample among the k likeliest tokens; 0 is off")]
    public int TopK { get; init; }

    /// <summary>TRL's <c>steps_per_generation</c>: micro-batches per generation batch. Default null: gradient_accumulation_steps.</summary>
    [Description("micro-batches per generation batch (null: gradient_accumulation_steps)")]
    public int? StepsPerGeneration { get; init; }

    /// <summary>The sampler's options for these keys.</summary>
    public Online.SamplingOptions Sampling => new() { MaxNewTokens = MaxCompletionLength, Temperature = Temperature, TopP = TopP, TopK = TopK, MaxPromptLength = MaxPromptLength };

    /// <summary>What is wrong with these keys, in recipe terms (null when nothing is).</summary>
    internal string? SamplingProblem()
    {
        if (NumIterations < 1) return $"num_iterations must be at least 1, got {NumIterations}";
        if (StepsPerGeneration is < 1) return $"steps_per_generation must be at least 1 or null, got {StepsPerGeneration}";
        if (MaxCompletionLength < 1) return $"max_completion_length must be at least 1, got {MaxCompletionLength}";
        if (MaxPromptLength is < 1) return $"max_prompt_length must be at least 1 or null, got {MaxPromptLength}";
        if (!(Temperature > 0f) || float.IsInfinity(Temperature)) return $"temperature must be a positive finite number, got {Temperature}";
        if (!(TopP > 0f && TopP <= 1f)) return $"top_p must be in (0, 1], got {TopP}";
        if (TopK < 0) return $"top_k must be ≥ 0 (0 is off), got {TopK}";
        return null;
    }
}

/// <summary>Options of GRPO (TRL's GRPOConfig keys and current defaults; <c>dynamic_sampling</c> is ours, from DAPO).</summary>
public sealed record GrpoOptions : PolicyGradientOptions
{
    /// <summary>TRL's <c>num_generations</c>: completions sampled per prompt (the group size G, at least 2). Default 8.</summary>
    [Description("completions sampled per prompt (group size, at least 2)")]
    public int NumGenerations { get; init; } = 8;

    /// <summary>TRL's <c>loss_type</c>. Default <see cref="GrpoLossType.Dapo"/>.</summary>
    [Description("aggregation of the per-token losses: grpo, bnpo, dr_grpo or dapo")]
    public GrpoLossType LossType { get; init; } = GrpoLossType.Dapo;

    /// <summary>TRL's <c>scale_rewards</c>. Default <see cref="RewardScaling.Group"/>.</summary>
    [Description("divide the group-centred rewards by the group's std, the batch's std, or nothing")]
    public RewardScaling ScaleRewards { get; init; } = RewardScaling.Group;

    /// <summary>TRL's <c>epsilon</c>: lower clipping bound 1 − ε of the ratio (and the upper one unless epsilon_high is set). Default 0.2.</summary>
    [Description("clipping ε: the ratio is clipped to [1 − ε, 1 + epsilon_high]")]
    public float Epsilon { get; init; } = 0.2f;

    /// <summary>TRL's <c>epsilon_high</c>: upper bound 1 + ε_high (DAPO's clip-higher recommends 0.28). Default null: ε.</summary>
    [Description("upper clipping ε (DAPO clip-higher, e.g. 0.28); null: epsilon")]
    public float? EpsilonHigh { get; init; }

    /// <summary>TRL's <c>delta</c>: when set, the unclipped ratio is capped at δ &gt; 1 (two-sided clipping, INTELLECT-2, which recommends δ &gt; 1 + ε_high). Default null: off.</summary>
    [Description("two-sided clipping: cap of the unclipped ratio (null: off; use > 1 + epsilon_high)")]
    public float? Delta { get; init; }

    /// <summary>TRL's <c>beta</c>: weight of the k3 KL to the reference model; 0 loads no reference. Default 0.</summary>
    [Description("weight of the k3 KL penalty to the reference model (0: no reference model)")]
    public float Beta { get; init; }

    /// <summary>TRL's <c>importance_sampling_level</c>. Default <see cref="Trainers.ImportanceSamplingLevel.Token"/>.</summary>
    [Description("importance ratio per token, or per sequence (GSPO)")]
    public ImportanceSamplingLevel ImportanceSamplingLevel { get; init; } = ImportanceSamplingLevel.Token;

    /// <summary>DAPO's dynamic sampling (ours; not in TRL): groups whose rewards are all equal are dropped and more are generated. Default false.</summary>
    [Description("DAPO dynamic sampling: drop groups whose rewards are all equal and sample more")]
    public bool DynamicSampling { get; init; }

    /// <summary>The upper clipping ε: <see cref="EpsilonHigh"/>, or <see cref="Epsilon"/> when unset.</summary>
    public float EffectiveEpsilonHigh => EpsilonHigh ?? Epsilon;
}

/// <summary>What the aggregation needs beyond the micro-batch itself.</summary>
/// <param name="GradientAccumulationSteps">Micro-batches per optimizer step (our Trainer scales each loss by its inverse).</param>
/// <param name="GenerationActiveTokens">
/// For <see cref="GrpoLossType.Dapo"/>: completion tokens of the whole generation batch (TRL's num_items_in_batch,
/// counted before mask_truncated_completions); unused by the other loss types.
/// </param>
public sealed record GrpoLossScale(int GradientAccumulationSteps = 1, int GenerationActiveTokens = 0);

/// <summary>Advantages of a generation batch and the group statistics TRL logs.</summary>
/// <param name="Advantages">[N] per rollout; 0 for a rollout with a NaN reward.</param>
/// <param name="GroupMean">[N / G] mean of each group's rewards (NaN rewards left out; NaN when none is left).</param>
/// <param name="GroupStd">[N / G] Bessel-corrected std of each group's rewards (0 with fewer than two rewards).</param>
/// <param name="ZeroStdGroups">[N / G] whether a group's rewards are all equal (std ≈ 0): no learning signal.</param>
/// <param name="FracRewardZeroStd">TRL's frac_reward_zero_std: the fraction of rollouts whose scaling std is ≈ 0 (the batch std for "batch").</param>
public sealed record GroupAdvantages(float[] Advantages, float[] GroupMean, float[] GroupStd, bool[] ZeroStdGroups, float FracRewardZeroStd);

/// <summary>GRPO's advantages and loss (with the Dr. GRPO, DAPO and GSPO variants), as pure functions.</summary>
public static class Grpo
{
    /// <summary>TRL adds this to the std before dividing.</summary>
    public const float StdEpsilon = 1e-4f;

    /// <summary>
    /// Why these options cannot be used, in recipe terms (null when they can). Trainers check it up front so a recipe
    /// fails before training.
    /// </summary>
    internal static string? OptionsProblem(GrpoOptions options)
    {
        if (options.NumGenerations < 2) return $"num_generations must be at least 2 (advantages compare completions of one prompt), got {options.NumGenerations}";
        if (ClipProblem(options.Epsilon, options.EpsilonHigh, options.Delta) is { } clip) return clip;
        if (!(options.Beta >= 0f) || float.IsInfinity(options.Beta)) return $"beta must be a finite number ≥ 0, got {options.Beta}";
        return options.SamplingProblem();
    }

    internal static string? ClipProblem(float epsilon, float? epsilonHigh, float? delta)
    {
        if (!(epsilon >= 0f && epsilon < 1f)) return $"epsilon must be in [0, 1), got {epsilon}";
        if (epsilonHigh is { } high && !(high >= 0f && !float.IsInfinity(high))) return $"epsilon_high must be a finite number ≥ 0 or null, got {high}";
        if (delta is { } d && !(d > 1f && !float.IsInfinity(d))) return $"delta must be a finite number above 1 (TRL recommends > 1 + epsilon_high) or null, got {d}";
        return null;
    }

    /// <summary>
    /// A_i = r_i − mean of its group; divided by (std + 1e-4) of the group (<see cref="RewardScaling.Group"/>) or of
    /// the whole batch (<see cref="RewardScaling.Batch"/>), both Bessel-corrected as torch.std. Rollouts form
    /// consecutive groups of <paramref name="numGenerations"/>. A NaN reward (no reward function applied) gets
    /// advantage 0 and is left out of every mean and std.
    /// </summary>
    /// <param name="rewards">[N] weighted sums of the reward functions' scores, NaN where none applied.</param>
    public static GroupAdvantages Advantages(ReadOnlySpan<float> rewards, int numGenerations, RewardScaling scaling)
    {
        int n = rewards.Length;
        if (numGenerations < 1) throw new ArgumentOutOfRangeException(nameof(numGenerations), $"GRPO advantages: numGenerations must be ≥ 1, got {numGenerations}");
        if (n == 0 || n % numGenerations != 0)
            throw new ArgumentException($"GRPO advantages: {n} rewards do not form whole groups of {numGenerations}", nameof(rewards));
        int groups = n / numGenerations;
        var mean = new float[groups];
        var std = new float[groups];
        var zero = new bool[groups];
        var centred = new double[n];
        for (int g = 0; g < groups; g++)
        {
            var (m, s) = MeanStd(rewards.Slice(g * numGenerations, numGenerations));
            mean[g] = (float)m;
            std[g] = (float)s;
            zero[g] = IsZero(s);
            for (int i = g * numGenerations; i < (g + 1) * numGenerations; i++)
                centred[i] = float.IsNaN(rewards[i]) ? 0 : rewards[i] - m;
        }

        var advantages = new float[n];
        double batchStd = scaling == RewardScaling.Batch ? MeanStd(rewards).Std : 0;
        int zeroRows = 0;
        for (int i = 0; i < n; i++)
        {
            double s = scaling == RewardScaling.Batch ? batchStd : std[i / numGenerations];
            if (IsZero(s)) zeroRows++;
            advantages[i] = (float)(scaling == RewardScaling.None ? centred[i] : centred[i] / (s + StdEpsilon));
        }
        return new GroupAdvantages(advantages, mean, std, zero, (float)zeroRows / n);
    }

    /// <summary>torch.isclose(std, 0) with its default tolerances: |std| ≤ 1e-8.</summary>
    private static bool IsZero(double std) => Math.Abs(std) <= 1e-8;

    /// <summary>Mean and Bessel-corrected std of the non-NaN values (std 0 with fewer than two; mean NaN with none).</summary>
    internal static (double Mean, double Std) MeanStd(ReadOnlySpan<float> values)
    {
        double sum = 0;
        int count = 0;
        foreach (var v in values)
            if (!float.IsNaN(v)) { sum += v; count++; }
        if (count == 0) return (double.NaN, 0);
        double mean = sum / count, squares = 0;
        foreach (var v in values)
            if (!float.IsNaN(v)) squares += (v - mean) * (v - mean);
        return (mean, count < 2 ? 0 : Math.Sqrt(squares / (count - 1)));
    }

    /// <summary>
    /// The GRPO loss of one micro-batch, scaled so that after the Trainer's 1/GAS the optimizer step's gradient is
    /// TRL's (see the file header). Per token ℓ = −min(w·A, clip(w, 1−ε, 1+ε_high)·A) + β·k3 with
    /// k3 = e^{ref−logπ} − (ref−logπ) − 1, w = exp(logπ − logπ_old) per token or, for GSPO, exp of the sequence's
    /// mean log-ratio; with <see cref="GrpoOptions.Delta"/> the unclipped w is first capped at δ. Aggregated by
    /// <see cref="GrpoOptions.LossType"/> over the mask.
    /// Metrics (TRL's names, micro-batch means over active tokens, or over sequences for GSPO's ratios):
    /// "clip_ratio/low_mean" (w &lt; 1−ε with A &lt; 0), "clip_ratio/high_mean" (w &gt; 1+ε_high with A &gt; 0),
    /// "clip_ratio/region_mean" (either), "kl" (mean k3, when β &gt; 0), "entropy" (when given).
    /// </summary>
    /// <param name="perTokenLogps">[B, T] log π of the completion tokens (with grad).</param>
    /// <param name="oldPerTokenLogps">[B·T] log π_old (sampling-time); null: the current values detached, so w ≡ 1 (TRL with num_iterations 1).</param>
    /// <param name="refPerTokenLogps">[B·T] log π_ref; required when β &gt; 0.</param>
    /// <param name="advantages">[B] per-sequence advantages.</param>
    /// <param name="mask">[B·T] 1 for completion tokens that count, 0 for padding (and masked truncated rows).</param>
    /// <param name="options">GRPO options (loss type, clipping, β, importance-sampling level, max_completion_length).</param>
    /// <param name="scale">Gradient accumulation steps and, for dapo, the generation batch's active tokens.</param>
    /// <param name="entropy">[B·T] per-token entropies, only logged.</param>
    public static LossResult Loss(
        Tensor perTokenLogps, float[]? oldPerTokenLogps, float[]? refPerTokenLogps,
        ReadOnlySpan<float> advantages, ReadOnlySpan<float> mask, GrpoOptions options, GrpoLossScale scale, float[]? entropy = null)
    {
        const string name = "GRPO loss";
        if (OptionsProblem(options) is { } problem) throw new ArgumentException($"{name}: {problem}", nameof(options));
        var (b, t) = PolicyGradient.Shape(name, perTokenLogps, advantages.Length, mask.Length, oldPerTokenLogps, refPerTokenLogps, entropy);
        if (advantages.Length != b) throw new ArgumentException($"{name}: GRPO takes one advantage per sequence, got {advantages.Length} for {b}", nameof(advantages));
        if (options.Beta != 0f && refPerTokenLogps is null) throw new ArgumentException($"{name}: beta {options.Beta} needs reference log-probs", nameof(refPerTokenLogps));
        if (scale.GradientAccumulationSteps < 1) throw new ArgumentOutOfRangeException(nameof(scale), $"{name}: GradientAccumulationSteps must be ≥ 1, got {scale.GradientAccumulationSteps}");
        if (options.LossType == GrpoLossType.Dapo && scale.GenerationActiveTokens < 1)
            throw new ArgumentOutOfRangeException(nameof(scale), $"{name}: loss_type dapo needs the generation batch's active tokens (GenerationActiveTokens ≥ 1), got {scale.GenerationActiveTokens}");

        var lengths = PolicyGradient.RowTokens(mask, b, t);
        double active = 0;
        foreach (var l in lengths) active += l;

        // Aggregation weight of each token's ℓ, mask included: the micro-batch loss is Σ W ⊙ ℓ.
        var weight = new float[b * t];
        for (int i = 0; i < b; i++)
        {
            double rowWeight = options.LossType switch
            {
                GrpoLossType.Grpo => 1.0 / (Math.Max(lengths[i], 1.0) * b),
                GrpoLossType.Bnpo => 1.0 / Math.Max(active, 1.0),
                GrpoLossType.DrGrpo => 1.0 / ((double)b * options.MaxCompletionLength),
                GrpoLossType.Dapo => (double)scale.GradientAccumulationSteps / scale.GenerationActiveTokens,
                _ => throw new ArgumentOutOfRangeException(nameof(options), $"{name}: unknown loss type {(int)options.LossType}"),
            };
            for (int j = 0; j < t; j++) weight[i * t + j] = (float)(mask[i * t + j] * rowWeight);
        }

        var old = oldPerTokenLogps ?? perTokenLogps.ToArray();
        var logRatio = Ops.Sub(perTokenLogps, Tensor.FromArray(old, b, t));                        // [B, T]
        var clip = new ClippedSurrogate(options.Epsilon, options.EffectiveEpsilonHigh, options.Delta);
        var metrics = new Dictionary<string, float>();
        Tensor loss;
        if (options.ImportanceSamplingLevel == ImportanceSamplingLevel.Token)
        {
            var ratio = Ops.Exp(logRatio);                                                          // w [B, T]
            var perTokenAdvantage = new float[b * t];
            for (int i = 0; i < b * t; i++) perTokenAdvantage[i] = advantages[i / t];
            var surrogate = clip.Apply(ratio.ToArray(), perTokenAdvantage);
            loss = surrogate.Weighted(ratio, weight);
            surrogate.AddClipMetrics(metrics, mask);
        }
        else
        {
            // GSPO: log w_b = Σ_t m·(logπ − logπ_old) / max(|y_b|, 1); every token of a row shares ℓ_b, so Σ_t W ⊙ ℓ = ℓ_b · Σ_t W.
            var meanScale = new float[b * t];
            var rowWeight = new float[b];
            for (int i = 0; i < b; i++)
                for (int j = 0; j < t; j++)
                {
                    meanScale[i * t + j] = (float)(mask[i * t + j] / Math.Max(lengths[i], 1.0));
                    rowWeight[i] += weight[i * t + j];
                }
            var ratio = Ops.Exp(Ops.SumLastAxis(Ops.Mul(logRatio, Tensor.FromArray(meanScale, b, t))));   // w [B]
            var surrogate = clip.Apply(ratio.ToArray(), advantages.ToArray());
            loss = surrogate.Weighted(ratio, rowWeight);
            surrogate.AddClipMetrics(metrics, null);
        }

        if (options.Beta != 0f)
        {
            var k3 = PolicyGradient.K3(perTokenLogps, refPerTokenLogps!, b, t);                    // [B, T]
            loss = Ops.Add(loss, Ops.Scale(Ops.Sum(Ops.Mul(k3, Tensor.FromArray(weight, b, t))), options.Beta));
            metrics["kl"] = PolicyGradient.MaskedMean(k3.ToArray(), mask);
        }
        if (entropy is not null) metrics["entropy"] = PolicyGradient.MaskedMean(entropy, mask);
        return new LossResult(loss, metrics);
    }
}

/// <summary>
/// ℓ = −min(c₁·A, clip(w, 1−ε, 1+ε_high)·A), c₁ = min(w, δ) with two-sided clipping or w, per element of a ratio
/// tensor, written as ℓ = g·w + c with g the autograd slope of torch's expression (torch.minimum splits the gradient
/// of a tie in half; clamp passes it inside its closed range) and c a constant, so the loss is one product with w.
/// </summary>
internal sealed class ClippedSurrogate(float epsilonLow, float epsilonHigh, float? delta)
{
    public Result Apply(float[] ratio, float[] advantage)
    {
        int n = ratio.Length;
        var slope = new float[n];
        var offset = new double[n];
        var low = new bool[n];
        var high = new bool[n];
        double lo = 1.0 - epsilonLow, hi = 1.0 + epsilonHigh;
        for (int i = 0; i < n; i++)
        {
            double w = ratio[i], a = advantage[i];
            double c1 = delta is { } d ? Math.Min(w, d) : w;
            bool c1Grad = delta is not { } dd || w <= dd;
            double c2 = Math.Clamp(w, lo, hi);
            bool c2Grad = w >= lo && w <= hi;
            double t1 = c1 * a, t2 = c2 * a;
            double g = t1 < t2 ? (c1Grad ? a : 0) : t2 < t1 ? (c2Grad ? a : 0) : ((c1Grad ? a : 0) + (c2Grad ? a : 0)) / 2;
            slope[i] = (float)-g;
            offset[i] = -Math.Min(t1, t2) + g * w;
            low[i] = c1 < lo && a < 0;
            high[i] = c1 > hi && a > 0;
        }
        return new Result(slope, offset, low, high);
    }

    public sealed record Result(float[] Slope, double[] Offset, bool[] Low, bool[] High)
    {
        /// <summary>Σ W ⊙ ℓ for the ratio tensor w (any shape with Slope's length) and weights W.</summary>
        public Tensor Weighted(Tensor ratio, float[] weight)
        {
            var coefficient = new float[Slope.Length];
            double constant = 0;
            for (int i = 0; i < Slope.Length; i++)
            {
                coefficient[i] = Slope[i] * weight[i];
                constant += Offset[i] * weight[i];
            }
            var shape = ratio.Shape.ToArray();
            return Ops.AddScalar(Ops.Sum(Ops.Mul(ratio, Tensor.FromArray(coefficient, shape))), (float)constant);
        }

        /// <summary>TRL's clip_ratio metrics: means over the mask's active elements, or over all elements without a mask.</summary>
        public void AddClipMetrics(Dictionary<string, float> metrics, ReadOnlySpan<float> mask)
        {
            double lowSum = 0, highSum = 0, regionSum = 0, count = 0;
            for (int i = 0; i < Low.Length; i++)
            {
                double m = mask.IsEmpty ? 1 : mask[i];
                lowSum += Low[i] ? m : 0;
                highSum += High[i] ? m : 0;
                regionSum += Low[i] || High[i] ? m : 0;
                count += m;
            }
            count = Math.Max(count, 1);
            metrics["clip_ratio/low_mean"] = (float)(lowSum / count);
            metrics["clip_ratio/high_mean"] = (float)(highSum / count);
            metrics["clip_ratio/region_mean"] = (float)(regionSum / count);
        }
    }
}

/// <summary>Argument checks and per-token pieces shared by the policy-gradient losses (GRPO, RLOO, REINFORCE++).</summary>
internal static class PolicyGradient
{
    /// <summary>Checks a [B, T] log-prob tensor against the [B] and [B·T] inputs; returns (B, T).</summary>
    public static (int B, int T) Shape(string loss, Tensor perTokenLogps, int advantages, int mask, params float[]?[] perToken)
    {
        if (perTokenLogps.Rank != 2)
            throw new ArgumentException($"{loss}: perTokenLogps must be [B, T], got shape [{string.Join(", ", perTokenLogps.Shape.ToArray())}]", nameof(perTokenLogps));
        int b = perTokenLogps.Dim(0), t = perTokenLogps.Dim(1);
        if (b == 0 || t == 0) throw new ArgumentException($"{loss}: the batch is empty", nameof(perTokenLogps));
        if (advantages != b && advantages != b * t) throw new ArgumentException($"{loss}: {advantages} advantages for a batch of {b} rows of {t} tokens", nameof(advantages));
        if (mask != b * t) throw new ArgumentException($"{loss}: mask has {mask} entries, expected B·T = {b * t}", nameof(mask));
        foreach (var values in perToken)
            if (values is not null && values.Length != b * t)
                throw new ArgumentException($"{loss}: a per-token input has {values.Length} entries, expected B·T = {b * t}");
        return (b, t);
    }

    /// <summary>[B] Σ_t mask per row.</summary>
    public static double[] RowTokens(ReadOnlySpan<float> mask, int b, int t)
    {
        var lengths = new double[b];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < t; j++) lengths[i] += mask[i * t + j];
        return lengths;
    }

    /// <summary>k3 = e^{ref−logπ} − (ref−logπ) − 1 per token, differentiable through logπ (Schulman's estimator, as TRL).</summary>
    public static Tensor K3(Tensor perTokenLogps, float[] refPerTokenLogps, int b, int t)
    {
        var d = Ops.Sub(Tensor.FromArray(refPerTokenLogps, b, t), perTokenLogps);
        return Ops.AddScalar(Ops.Sub(Ops.Exp(d), d), -1f);
    }

    /// <summary>Σ x·m / max(Σ m, 1).</summary>
    public static float MaskedMean(ReadOnlySpan<float> values, ReadOnlySpan<float> mask)
    {
        double sum = 0, count = 0;
        for (int i = 0; i < values.Length; i++)
        {
            if (mask[i] == 0f) continue;
            sum += (double)values[i] * mask[i];
            count += mask[i];
        }
        return (float)(sum / Math.Max(count, 1.0));
    }
}
