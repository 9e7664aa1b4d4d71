// Proximal Policy Optimization for RLHF.
// Schulman et al. 2017, "Proximal Policy Optimization Algorithms", https://arxiv.org/abs/1707.06347 (clipped surrogate).
// Ziegler et al. 2019, "Fine-Tuning Language Models from Human Preferences", https://arxiv.org/abs/1909.08593
// (per-token KL penalty in the reward, reward-model score at the end, adaptive KL coefficient).
// Ouyang et al. 2022, "Training language models to follow instructions with human feedback", https://arxiv.org/abs/2203.02155.
// Huang et al. 2024, "The N+ Implementation Details of RLHF with PPO: A Case Study on TL;DR Summarization",
// https://arxiv.org/abs/2403.17031 (the layout TRL's PPOTrainer follows: score one position past the completion,
// values kept one position further than the policy mask, whitened advantages, value clipping).
// TRL followed: trl/experimental/ppo/ppo_trainer.py at huggingface/trl commit d6196b61 (TRL's PPOTrainer after its
// move to trl.experimental): steps 3-6 of its rollout (missing_eos_penalty, k1/k3 reward, whiten_rewards, the GAE loop,
// advantage whitening) and its minibatch loss and metrics; defaults from trl/experimental/ppo/ppo_config.py (read at
// commit 2d3eb40). The adaptive controller is the AdaptiveKLController of TRL's PPOTrainer before v0.12 (Ziegler et
// al.; adap_kl_ctrl with target 6, horizon 10000), which the current trainer dropped.
using System.ComponentModel;
using AlignSharp.Tensors;

namespace AlignSharp.Training.Trainers;

/// <summary>KL estimators of Schulman's "Approximating KL Divergence" (TRL's <c>kl_estimator</c>), with r = π_ref/π per token.</summary>
public enum KlEstimator
{
    /// <summary>["k1"] log π − log π_ref: unbiased, high variance (TRL's default).</summary>
    K1,

    /// <summary>["k3"] (r − 1) − log r: unbiased, lower variance, never negative.</summary>
    K3,
}

/// <summary>Where the PPO critic lives (our option; TRL always trains a separate value model).</summary>
public enum ValueModelKind
{
    /// <summary>["separate"] a critic of its own (body + score head, trained in full), as TRL's <c>value_model</c>; it starts from the reward model or the policy.</summary>
    Separate,

    /// <summary>["shared"] a [1, C] value head on the policy's final hidden states: one forward pass, no second model.</summary>
    Shared,
}

/// <summary>Options of PPO for RLHF (TRL's PPOConfig keys and defaults, plus the adaptive KL controller and the critic's kind).</summary>
public sealed record PpoOptions
{
    /// <summary>TRL's <c>num_ppo_epochs</c>: passes over each rollout batch. Default 4.</summary>
    [Description("passes of minibatch updates over each rollout batch")]
    public int NumPpoEpochs { get; init; } = 4;

    /// <summary>TRL's <c>num_mini_batches</c>: minibatches each rollout batch is split into per epoch. Default 1.</summary>
    [Description("minibatches each rollout batch is split into (the batch size must be a multiple)")]
    public int NumMiniBatches { get; init; } = 1;

    /// <summary>TRL's <c>whiten_rewards</c>: whiten the per-token rewards (mean kept) before GAE. Default false.</summary>
    [Description("whiten the per-token rewards (mean kept) before GAE")]
    public bool WhitenRewards { get; init; }

    /// <summary>TRL's <c>kl_coef</c>: weight of the per-token KL penalty in the reward (the adaptive controller's start). Default 0.05.</summary>
    [Description("weight of the per-token KL penalty to the reference in the reward")]
    public float KlCoef { get; init; } = 0.05f;

    /// <summary>TRL's <c>kl_estimator</c>: k1 or k3. Default k1.</summary>
    [Description("per-token KL estimator in the reward: k1 (log-ratio) or k3 (lower variance)")]
    public KlEstimator KlEstimator { get; init; } = KlEstimator.K1;

    /// <summary>TRL's <c>cliprange</c> ε: the ratio is clipped to [1 − ε, 1 + ε]. Default 0.2.</summary>
    [Description("policy ratio clip range ε")]
    public float Cliprange { get; init; } = 0.2f;

    /// <summary>TRL's <c>vf_coef</c>: weight of the value loss. Default 0.1.</summary>
    [Description("weight of the value loss")]
    public float VfCoef { get; init; } = 0.1f;

    /// <summary>TRL's <c>cliprange_value</c>: new values are clipped to ± this around the rollout's values. Default 0.2.</summary>
    [Description("value clip range around the rollout's values")]
    public float CliprangeValue { get; init; } = 0.2f;

    /// <summary>TRL's <c>gamma</c>: discount. Default 1.</summary>
    [Description("GAE discount γ")]
    public float Gamma { get; init; } = 1f;

    /// <summary>TRL's <c>lam</c>: GAE λ. Default 0.95.</summary>
    [Description("GAE λ")]
    public float Lam { get; init; } = 0.95f;

    /// <summary>TRL's <c>response_length</c> (the key GRPO calls <c>max_completion_length</c>): most tokens sampled per completion. Default 53.</summary>
    [Description("most tokens sampled per completion (TRL's response_length)")]
    public int MaxCompletionLength { get; init; } = 53;

    /// <summary>TRL's <c>temperature</c>: sampling temperature; the training forward divides the logits by it too. Default 0.7.</summary>
    [Description("sampling temperature (the training forward uses it too)")]
    public float Temperature { get; init; } = 0.7f;

    /// <summary>TRL's <c>missing_eos_penalty</c>: subtracted from the score of a completion without EOS. Default: off (null).</summary>
    [Description("subtracted from the score of a completion that never sampled EOS (null: off)")]
    public float? MissingEosPenalty { get; init; }

    /// <summary>Ziegler et al.'s adaptive KL coefficient (TRL <= 0.11's adap_kl_ctrl), starting from <see cref="KlCoef"/>. Default false (fixed).</summary>
    [Description("adapt kl_coef towards kl_target (Ziegler et al. 2019)")]
    public bool AdaptiveKl { get; init; }

    /// <summary>The adaptive controller's target KL per completion (TRL <= 0.11's <c>target</c>). Default 6.</summary>
    [Description("adaptive KL: target KL per completion")]
    public float KlTarget { get; init; } = 6f;

    /// <summary>The adaptive controller's horizon in rollouts (TRL <= 0.11's <c>horizon</c>). Default 10000.</summary>
    [Description("adaptive KL: horizon in rollouts")]
    public float KlHorizon { get; init; } = 10000f;

    /// <summary>The critic: a separate value model or a value head on the policy. Default separate (as TRL).</summary>
    [Description("critic: separate (a value model of its own) or shared (a value head on the policy)")]
    public ValueModelKind ValueModel { get; init; } = ValueModelKind.Separate;
}

/// <summary>
/// What a rollout batch trains on (TRL's steps 3-6), all [B·T] row-major over completion tokens: t is the t-th
/// completion token, T the longest completion of the batch.
/// </summary>
/// <param name="Rewards">Per-token rewards: −kl_coef·KL_t, plus the score at <see cref="Ppo.ScoreIndex"/> (whitened first with whiten_rewards).</param>
/// <param name="Kl">Per-token KL estimate; 0 past each completion.</param>
/// <param name="Scores">[B] scores after the missing-EOS penalty.</param>
/// <param name="Values">The rollout's values, 0 outside <see cref="Ppo.ValueMask"/>.</param>
/// <param name="Advantages">GAE advantages, whitened over the completion tokens, 0 past them.</param>
/// <param name="Returns">Advantages (before whitening) + values: the value targets.</param>
public sealed record PpoTargets(float[] Rewards, float[] Kl, float[] Scores, float[] Values, float[] Advantages, float[] Returns)
{
    /// <summary>TRL's objective/kl: Σ_t KL_t per completion, averaged over the batch.</summary>
    public float MeanKl(int b) => (float)(Kl.Sum(x => (double)x) / b);
}

/// <summary>
/// Ziegler et al. 2019's adaptive KL coefficient: e = clip(KL/target − 1, −0.2, 0.2), coef ← coef·(1 + e·n/horizon)
/// after each rollout batch of n completions with mean KL (Σ over tokens) KL. Its <see cref="Value"/> is run state:
/// checkpoints save and restore it.
/// </summary>
public sealed class AdaptiveKlController(float initial, float target, float horizon)
{
    /// <summary>The current coefficient.</summary>
    public float Value { get; set; } = initial;
    public float Target { get; } = target > 0f ? target : throw new ArgumentOutOfRangeException(nameof(target), $"kl_target must be positive, got {target}");
    public float Horizon { get; } = horizon > 0f ? horizon : throw new ArgumentOutOfRangeException(nameof(horizon), $"kl_horizon must be positive, got {horizon}");

    /// <summary>Moves the coefficient after a batch of <paramref name="steps"/> completions whose mean KL was <paramref name="kl"/>.</summary>
    public void Update(double kl, int steps)
    {
        double error = Math.Clamp(kl / Target - 1.0, -0.2, 0.2);
        Value = (float)(Value * (1.0 + error * steps / Horizon));
    }
}

/// <summary>PPO's pure functions over a rollout batch (rewards, whitening, GAE) and its minibatch loss, as TRL computes them.</summary>
public static class Ppo
{
    /// <summary>TRL's INVALID_LOGPROB: the log-prob both sides hold past a completion, so the KL and the log-ratio are 0 there.</summary>
    private const float InvalidLogProb = 1f;

    /// <summary>The <c>kl_estimator</c> name a recipe uses: "k1", "k3".</summary>
    public static string KlEstimatorName(KlEstimator estimator) => estimator switch
    {
        KlEstimator.K1 => "k1",
        KlEstimator.K3 => "k3",
        _ => throw new ArgumentOutOfRangeException(nameof(estimator), estimator, "unknown KL estimator"),
    };

    /// <summary>Why these options cannot be used, in recipe terms (null when they can).</summary>
    public static string? OptionsProblem(PpoOptions o)
    {
        if (o.NumPpoEpochs < 1) return $"num_ppo_epochs must be at least 1, got {o.NumPpoEpochs}";
        if (o.NumMiniBatches < 1) return $"num_mini_batches must be at least 1, got {o.NumMiniBatches}";
        if (!(o.KlCoef >= 0f) || float.IsInfinity(o.KlCoef)) return $"kl_coef must be a finite number ≥ 0, got {o.KlCoef}";
        if (!(o.Cliprange > 0f) || float.IsInfinity(o.Cliprange)) return $"cliprange must be positive, got {o.Cliprange}";
        if (!(o.CliprangeValue > 0f) || float.IsInfinity(o.CliprangeValue)) return $"cliprange_value must be positive, got {o.CliprangeValue}";
        if (!(o.VfCoef >= 0f) || float.IsInfinity(o.VfCoef)) return $"vf_coef must be a finite number ≥ 0, got {o.VfCoef}";
        if (!(o.Gamma >= 0f && o.Gamma <= 1f)) return $"gamma must be in [0, 1], got {o.Gamma}";
        if (!(o.Lam >= 0f && o.Lam <= 1f)) return $"lam must be in [0, 1], got {o.Lam}";
        if (o.MaxCompletionLength < 1) return $"max_completion_length must be at least 1, got {o.MaxCompletionLength}";
        if (!(o.Temperature > 0f) || float.IsInfinity(o.Temperature)) return $"temperature must be positive, got {o.Temperature}";
        if (o.MissingEosPenalty is { } p && !(p >= 0f)) return $"missing_eos_penalty must be ≥ 0 (it is subtracted from the score), got {p}";
        if (!(o.KlTarget > 0f) || float.IsInfinity(o.KlTarget)) return $"kl_target must be positive, got {o.KlTarget}";
        if (!(o.KlHorizon > 0f) || float.IsInfinity(o.KlHorizon)) return $"kl_horizon must be positive, got {o.KlHorizon}";
        return null;
    }

    /// <summary>Completion lengths L_b from a [B·T] completion mask, which must be a prefix of ones in every row.</summary>
    public static int[] Lengths(ReadOnlySpan<float> mask, int b, int t)
    {
        if (b < 1 || t < 1 || mask.Length != b * t) throw new ArgumentException($"PPO: mask has {mask.Length} entries for a [{b}, {t}] batch", nameof(mask));
        var lengths = new int[b];
        for (int i = 0; i < b; i++)
        {
            int n = 0;
            while (n < t && mask[i * t + n] != 0f) n++;
            for (int j = n; j < t; j++)
                if (mask[i * t + j] != 0f) throw new ArgumentException($"PPO: mask row {i} is not a prefix of ones (1 at {j} after 0 at {n}); completions are right-padded", nameof(mask));
            lengths[i] = n;
        }
        return lengths;
    }

    /// <summary>
    /// Where a row's score goes (TRL's actual_end): index L, one past the completion (TRL's sequence_lengths_p1), when
    /// the row has room; its last token L − 1 when it fills all T columns.
    /// </summary>
    public static int ScoreIndex(int length, int t) => length < t ? length : Math.Max(length - 1, 0);

    /// <summary>TRL's ~padding_mask_p1 [B·T]: 1 at indices ≤ L (the completion and one past it), where values are kept and the value loss is taken.</summary>
    public static float[] ValueMask(ReadOnlySpan<float> mask, int b, int t)
    {
        var lengths = Lengths(mask, b, t);
        var result = new float[b * t];
        for (int i = 0; i < b; i++)
            for (int j = 0; j <= Math.Min(lengths[i], t - 1); j++) result[i * t + j] = 1f;
        return result;
    }

    /// <summary>
    /// TRL's step 4: per-token rewards −kl_coef·KL_t over the completion tokens (0 past them, where both log-probs are
    /// TRL's INVALID_LOGPROB), plus score_b at <see cref="ScoreIndex"/>. KL_t is k1 = logπ − logπ_ref or
    /// k3 = (r − 1) − log r with r = π_ref/π.
    /// </summary>
    /// <param name="scores">[B] scores (after any missing-EOS penalty, see <see cref="PenalizeMissingEos"/>).</param>
    /// <param name="logps">[B·T] the rollout's log-probs of the completion tokens.</param>
    /// <param name="refLogps">[B·T] the reference's.</param>
    /// <param name="mask">[B·T] 1 on completion tokens (a prefix of each row).</param>
    public static (float[] Rewards, float[] Kl) TokenRewards(ReadOnlySpan<float> scores, ReadOnlySpan<float> logps, ReadOnlySpan<float> refLogps,
        ReadOnlySpan<float> mask, int b, int t, float klCoef, KlEstimator estimator)
    {
        var lengths = Lengths(mask, b, t);
        RequireLength(nameof(scores), scores.Length, b);
        RequireLength(nameof(logps), logps.Length, b * t);
        RequireLength(nameof(refLogps), refLogps.Length, b * t);
        var rewards = new float[b * t];
        var kl = new float[b * t];
        for (int i = 0; i < b * t; i++)
        {
            if (mask[i] == 0f) continue;
            double logr = (double)refLogps[i] - logps[i];
            double k = estimator == KlEstimator.K1 ? -logr : Math.Exp(logr) - 1.0 - logr;
            kl[i] = (float)k;
            rewards[i] = (float)(-klCoef * k);
        }
        for (int i = 0; i < b; i++) rewards[i * t + ScoreIndex(lengths[i], t)] += scores[i];
        return (rewards, kl);
    }

    /// <summary>TRL's step 3: score − missing_eos_penalty for each completion without EOS (none when the penalty is null).</summary>
    public static float[] PenalizeMissingEos(ReadOnlySpan<float> scores, ReadOnlySpan<bool> containsEos, float? penalty)
    {
        RequireLength(nameof(containsEos), containsEos.Length, scores.Length);
        var result = scores.ToArray();
        if (penalty is { } p)
            for (int i = 0; i < result.Length; i++) if (!containsEos[i]) result[i] -= p;
        return result;
    }

    /// <summary>
    /// TRL's masked_whiten: (x − μ)/√(σ² + 1e-8) at every position, μ and σ² (Bessel-corrected) over the masked
    /// entries; with <paramref name="shiftMean"/> false μ is added back.
    /// </summary>
    public static float[] Whiten(ReadOnlySpan<float> values, ReadOnlySpan<float> mask, bool shiftMean = true)
    {
        RequireLength(nameof(mask), mask.Length, values.Length);
        double n = 0, sum = 0;
        for (int i = 0; i < values.Length; i++) { n += mask[i]; sum += (double)values[i] * mask[i]; }
        if (n < 2) throw new ArgumentException($"PPO: whitening needs at least 2 masked entries, got {n} (use a larger batch or minibatch)", nameof(mask));
        double mean = sum / n, squares = 0;
        for (int i = 0; i < values.Length; i++) { double c = values[i] - mean; squares += c * c * mask[i]; }
        double variance = squares / n * (n / (n - 1));
        double scale = 1.0 / Math.Sqrt(variance + 1e-8);
        var result = new float[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = (float)((values[i] - mean) * scale + (shiftMean ? 0.0 : mean));
        return result;
    }

    /// <summary>
    /// TRL's step 6 GAE loop, per row from the last column back: δ_t = r_t + γ·V_{t+1} − V_t (V_T = 0),
    /// A_t = δ_t + γλ·A_{t+1}; returns R = A + V. <paramref name="values"/> are taken as given (TRL zeroes them outside
    /// <see cref="ValueMask"/> first; <see cref="Targets"/> does).
    /// </summary>
    public static (float[] Advantages, float[] Returns) Gae(ReadOnlySpan<float> rewards, ReadOnlySpan<float> values, int b, int t, float gamma, float lam)
    {
        RequireLength(nameof(rewards), rewards.Length, b * t);
        RequireLength(nameof(values), values.Length, b * t);
        var advantages = new float[b * t];
        var returns = new float[b * t];
        for (int i = 0; i < b; i++)
        {
            double last = 0;
            for (int j = t - 1; j >= 0; j--)
            {
                int k = i * t + j;
                double next = j < t - 1 ? values[k + 1] : 0.0;
                double delta = rewards[k] + gamma * next - values[k];
                last = delta + (double)gamma * lam * last;
                advantages[k] = (float)last;
                returns[k] = (float)(last + values[k]);
            }
        }
        return (advantages, returns);
    }

    /// <summary>
    /// TRL's steps 3-6 for a rollout batch: missing-EOS penalty, per-token rewards, optional reward whitening (mean
    /// kept, 0 outside <see cref="ValueMask"/>), values zeroed outside <see cref="ValueMask"/>, GAE, and advantages
    /// whitened over the completion tokens and 0 past them.
    /// </summary>
    /// <param name="values">[B·T] the critic's values at the positions that predict each completion token.</param>
    /// <param name="containsEos">[B] whether each completion sampled EOS (for missing_eos_penalty).</param>
    /// <param name="klCoef">The KL coefficient now (<see cref="PpoOptions.KlCoef"/>, or the adaptive controller's value).</param>
    public static PpoTargets Targets(ReadOnlySpan<float> scores, ReadOnlySpan<bool> containsEos, ReadOnlySpan<float> logps, ReadOnlySpan<float> refLogps,
        ReadOnlySpan<float> values, ReadOnlySpan<float> mask, int b, int t, PpoOptions options, float klCoef)
    {
        RequireLength(nameof(values), values.Length, b * t);
        var penalized = PenalizeMissingEos(scores, containsEos, options.MissingEosPenalty);
        var (rewards, kl) = TokenRewards(penalized, logps, refLogps, mask, b, t, klCoef, options.KlEstimator);
        var valueMask = ValueMask(mask, b, t);
        if (options.WhitenRewards)
        {
            rewards = Whiten(rewards, valueMask, shiftMean: false);
            for (int i = 0; i < rewards.Length; i++) rewards[i] *= valueMask[i];
        }
        var maskedValues = new float[b * t];
        for (int i = 0; i < maskedValues.Length; i++) maskedValues[i] = values[i] * valueMask[i];
        var (advantages, returns) = Gae(rewards, maskedValues, b, t, options.Gamma, options.Lam);
        advantages = Whiten(advantages, mask);
        for (int i = 0; i < advantages.Length; i++) advantages[i] *= mask[i];
        return new PpoTargets(rewards, kl, penalized, maskedValues, advantages, returns);
    }

    /// <summary>
    /// TRL's minibatch loss: pg = masked mean over completion tokens of max(−A·w, −A·clip(w, 1 ± ε)) with
    /// w = exp(logπ − logπ_old) (1 past the completion); vf = ½·masked mean over <see cref="ValueMask"/> of
    /// max((V − R)², (clip(V, V_old ± cliprange_value) − R)²) with V = 0 outside it; loss = pg + vf_coef·vf.
    /// Metrics (TRL's names, per minibatch): "policy/approxkl_avg" ½·mean over all B·T of (logπ − logπ_old)²,
    /// "policy/clipfrac_avg", "loss/policy_avg", "loss/value_avg" (vf), "val/clipfrac_avg", "val/ratio" (mean w over all
    /// B·T), and "policy/entropy_avg" when <paramref name="entropy"/> is given (mean over the completion tokens; TRL
    /// averages over padding columns too).
    /// </summary>
    /// <param name="logps">[B, T] log-probs of the completion tokens under the current policy (with grad; finite past the completion).</param>
    /// <param name="oldLogps">[B·T] the rollout's log-probs.</param>
    /// <param name="advantages">[B·T] whitened advantages (<see cref="PpoTargets.Advantages"/>).</param>
    /// <param name="values">[B, T] the critic's current values at the predicting positions (with grad).</param>
    /// <param name="oldValues">[B·T] the rollout's values (<see cref="PpoTargets.Values"/>).</param>
    /// <param name="returns">[B·T] value targets (<see cref="PpoTargets.Returns"/>).</param>
    /// <param name="mask">[B·T] 1 on completion tokens (a prefix of each row).</param>
    /// <param name="entropy">[B·T] entropy of each predicting distribution, for the metric (optional).</param>
    public static LossResult Loss(Tensor logps, ReadOnlySpan<float> oldLogps, ReadOnlySpan<float> advantages,
        Tensor values, ReadOnlySpan<float> oldValues, ReadOnlySpan<float> returns, ReadOnlySpan<float> mask,
        PpoOptions? options = null, ReadOnlySpan<float> entropy = default)
    {
        const string name = "PPO loss";
        options ??= new PpoOptions();
        if (OptionsProblem(options) is { } problem) throw new ArgumentException($"{name}: {problem}", nameof(options));
        if (logps.Rank != 2) throw new ArgumentException($"{name}: logps must be [B, T], got [{string.Join(", ", logps.Shape.ToArray())}]", nameof(logps));
        int b = logps.Dim(0), t = logps.Dim(1), n = b * t;
        if (values.Rank != 2 || values.Dim(0) != b || values.Dim(1) != t)
            throw new ArgumentException($"{name}: values has shape [{string.Join(", ", values.Shape.ToArray())}], expected [{b}, {t}] like logps", nameof(values));
        RequireLength(nameof(oldLogps), oldLogps.Length, n);
        RequireLength(nameof(advantages), advantages.Length, n);
        RequireLength(nameof(oldValues), oldValues.Length, n);
        RequireLength(nameof(returns), returns.Length, n);
        if (!entropy.IsEmpty) RequireLength(nameof(entropy), entropy.Length, n);
        var valueMask = ValueMask(mask, b, t);
        double tokens = 0, valueTokens = 0;
        for (int i = 0; i < n; i++) { tokens += mask[i]; valueTokens += valueMask[i]; }
        if (tokens == 0) throw new ArgumentException($"{name}: the minibatch has no completion tokens", nameof(mask));
        float eps = options.Cliprange, epsV = options.CliprangeValue;

        // Policy: d = (logπ − logπ_old)·m (TRL fills both with INVALID_LOGPROB past the completion), w = e^d [B, T].
        var maskTensor = Tensor.FromArray(mask.ToArray(), b, t);
        var oldMasked = new float[n];
        for (int i = 0; i < n; i++) oldMasked[i] = mask[i] == 0f ? InvalidLogProb : oldLogps[i];
        var newMasked = Ops.Add(Ops.Mul(logps, maskTensor), Tensor.FromArray(mask.ToArray().Select(m => m == 0f ? InvalidLogProb : 0f).ToArray(), b, t));
        var diff = Ops.Sub(newMasked, Tensor.FromArray(oldMasked, b, t));      // [B, T]
        var ratio = Ops.Exp(diff);                                              // [B, T]
        float[] d = diff.ToArray(), w = ratio.ToArray();

        // max(−A·w, −A·clip(w)): where the clipped term is strictly larger the ratio is clipped and the term is a
        // constant; elsewhere the loss is −A·w (torch's max splits ties evenly between two equal gradients).
        var policyWeight = new float[n];
        double policyConstant = 0, clipped = 0, approxKl = 0, ratioSum = 0;
        for (int i = 0; i < n; i++)
        {
            approxKl += (double)d[i] * d[i];
            ratioSum += w[i];
            if (mask[i] == 0f) continue;
            double unclippedLoss = -(double)advantages[i] * w[i];
            double clippedLoss = -(double)advantages[i] * Math.Clamp(w[i], 1.0 - eps, 1.0 + eps);
            if (clippedLoss > unclippedLoss) { policyConstant += clippedLoss; clipped++; }
            else policyWeight[i] = -advantages[i];
        }
        var pgLoss = Ops.AddScalar(Ops.Scale(Ops.Sum(Ops.Mul(ratio, Tensor.FromArray(policyWeight, b, t))), (float)(1.0 / tokens)), (float)(policyConstant / tokens));

        // Value: V·m₊₁ (TRL's masked_fill 0), ½ max((V − R)², (clip(V, V_old ± c) − R)²), masked mean over m₊₁.
        float[] v = values.ToArray();
        var valueSelect = new float[n];
        double valueConstant = 0, valueClipped = 0;
        for (int i = 0; i < n; i++)
        {
            if (valueMask[i] == 0f) continue;
            double vi = v[i], old = oldValues[i] * valueMask[i];
            double loss1 = (vi - returns[i]) * (vi - returns[i]);
            double vClip = Math.Clamp(vi, old - epsV, old + epsV);
            double loss2 = (vClip - returns[i]) * (vClip - returns[i]);
            if (loss2 > loss1) { valueConstant += loss2; valueClipped++; }
            else valueSelect[i] = 1f;
        }
        var residual = Ops.Sub(values, Tensor.FromArray(returns.ToArray(), b, t));       // [B, T]
        var vfSum = Ops.Sum(Ops.Mul(Ops.Square(residual), Tensor.FromArray(valueSelect, b, t)));
        var vfLoss = Ops.AddScalar(Ops.Scale(vfSum, (float)(0.5 / valueTokens)), (float)(0.5 * valueConstant / valueTokens));

        var loss = Ops.Add(pgLoss, Ops.Scale(vfLoss, options.VfCoef));
        var metrics = new Dictionary<string, float>
        {
            ["policy/approxkl_avg"] = (float)(0.5 * approxKl / n),
            ["policy/clipfrac_avg"] = (float)(clipped / tokens),
            ["loss/policy_avg"] = pgLoss.Item(),
            ["loss/value_avg"] = vfLoss.Item(),
            ["val/clipfrac_avg"] = (float)(valueClipped / valueTokens),
            ["val/ratio"] = (float)(ratioSum / n),
        };
        if (!entropy.IsEmpty) metrics["policy/entropy_avg"] = PolicyGradient.MaskedMean(entropy, mask);
        return new LossResult(loss, metrics);
    }

    private static void RequireLength(string name, int length, int expected)
    {
        if (length != expected) throw new ArgumentException($"PPO: {name} has {length} entries, expected {expected}", name);
    }
}
