using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using AlignSharp.Feedback;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Tensors.Kernels;

namespace AlignSharp.Training.Online;

/// <summary>A prompt and one sampled completion of it, as token ids (the exact tokens the sampler produced).</summary>
public sealed record CompletionRow(int[] PromptIds, int[] CompletionIds)
{
    /// <summary>The rollout's prompt and completion tokens.</summary>
    public static CompletionRow Of(Rollout rollout) => new(rollout.PromptIds, rollout.CompletionIds);
}

/// <summary>
/// The training forward over prompt + completion rows: per-token log-probs of the completion tokens [B, T]
/// (T = the longest completion; 0 past each row's end, where <see cref="Mask"/> is 0), optionally the entropy of
/// each predicting distribution and the final hidden states at the predicting positions (for a value head).
/// </summary>
/// <param name="LogProbs">[B, T] log softmax(logits / temperature)[completion token], with gradient unless computed under NoGrad.</param>
/// <param name="Mask">[B·T] 1 for a real completion token, 0 for padding.</param>
/// <param name="Entropy">[B·T] entropy of each predicting distribution (at the temperature), when asked for; 0 on padding.</param>
/// <param name="Hidden">[B, T, C] final hidden states (after the final norm) at the positions that predict each completion token, when asked for; 0 on padding.</param>
public sealed record CompletionForward(Tensor LogProbs, float[] Mask, int B, int T, float[]? Entropy = null, Tensor? Hidden = null);

/// <summary>
/// Per-token log-probs of sampled completions under a causal LM — the trainer's side of the rollout/training
/// log-prob guarantee: for the weights and temperature that sampled them with <see cref="PolicySampler"/>, these equal
/// the sampler's log-probs bitwise (both run under <see cref="Sgemm.BlockedOrder"/>), for any batch and thread count.
/// </summary>
/// <remarks>
/// Row b is prompt_b ++ completion_b[..^1], right-padded: position |prompt_b| − 1 + j predicts completion token j (the
/// last completion token is only a target). The LM head runs on the predicting positions alone (N = Σ|completion_b|
/// rows instead of B·T), which is most of the forward's cost on a large vocabulary: hidden [B, T, C] → gather the N
/// predicting rows [N, C] → logits [N, V] (÷ temperature) → log-probs [N] → scattered into [B, T_completion].
/// </remarks>
public static class CompletionLogProbs
{
    /// <summary>One forward pass over the rows (prompt + completion, right-padded) and the completion tokens' log-probs.</summary>
    /// <param name="temperature">Logits are divided by it before the log-softmax (TRL's GRPO/RLOO/PPO do the same); must match the sampling temperature.</param>
    /// <param name="withAdapters">false: the base model alone for this call (a LoRA run's reference).</param>
    /// <param name="entropy">Also the entropy −Σ p log p of each tempered predicting distribution (no gradient).</param>
    /// <param name="keepHidden">Also the final hidden states at the predicting positions, with gradient (a value head's input).</param>
    /// <param name="samplingOrder">
    /// Run the forward in the sampler's kernel order (<see cref="Sgemm.BlockedOrder"/>), so the log-probs equal the
    /// sampling ones bitwise — what the policy's forward needs; false for a pass that is never compared with sampling
    /// (the reference model), which then takes the faster tiled attention.
    /// </param>
    /// <exception cref="ArgumentException">No rows, an empty prompt, or a temperature that is not a positive finite number.</exception>
    public static CompletionForward Compute(TransformerModel model, IReadOnlyList<CompletionRow> rows, float temperature = 1f,
        bool withAdapters = true, bool entropy = false, bool keepHidden = false, bool samplingOrder = true)
    {
        if (rows.Count == 0) throw new ArgumentException("completion log-probs: no rows given", nameof(rows));
        if (!(temperature > 0f) || !float.IsFinite(temperature))
            throw new ArgumentException($"completion log-probs: temperature must be a positive number (got {temperature}); greedy rollouts are scored at 1", nameof(temperature));
        int B = rows.Count;
        for (int b = 0; b < B; b++)
            if (rows[b].PromptIds.Length == 0) throw new ArgumentException($"completion log-probs: row {b} has an empty prompt (its first completion token has no position to predict it)", nameof(rows));
        int T = rows.Max(r => r.PromptIds.Length + Math.Max(0, r.CompletionIds.Length - 1));   // input length
        int Tc = rows.Max(r => r.CompletionIds.Length);                                        // completion length

        var ids = new int[B * T];          // [B, T] prompt ++ completion[..^1], 0 on padding
        var attention = new float[B * T];  // [B, T]
        var mask = new float[B * Tc];      // [B, Tc]
        var slots = new int[B * Tc];       // [B, Tc] index into the N gathered rows, N for padding (a zero row)
        var gather = new List<int>();      // [N] flat position b·T + t of each predicting position
        var targets = new List<int>();     // [N] the token it predicts
        for (int b = 0; b < B; b++)
        {
            var (prompt, completion) = (rows[b].PromptIds, rows[b].CompletionIds);
            int length = prompt.Length + Math.Max(0, completion.Length - 1);
            prompt.CopyTo(ids, b * T);
            if (completion.Length > 1) completion.AsSpan(0, completion.Length - 1).CopyTo(ids.AsSpan(b * T + prompt.Length));
            attention.AsSpan(b * T, length).Fill(1f);
            for (int j = 0; j < Tc; j++)
            {
                if (j >= completion.Length) { slots[b * Tc + j] = -1; continue; }
                slots[b * Tc + j] = gather.Count;
                mask[b * Tc + j] = 1f;
                gather.Add(b * T + prompt.Length - 1 + j);
                targets.Add(completion[j]);
            }
        }
        int N = gather.Count;
        for (int i = 0; i < slots.Length; i++) if (slots[i] < 0) slots[i] = N;

        Tensor predicting, logits;
        // Batch-invariant products and attention (a token's row is computed the same way for any batch, padding or
        // step): PolicySampler decodes in the same mode, so the two give the same logits bitwise. The backward runs
        // outside it, unchanged.
        using (samplingOrder ? Sgemm.BlockedOrder() : default(Sgemm.BlockedOrderScope?))
        {
            var hidden = model.Hidden(ids, B, T, Tensor.FromArray(attention, B, T), withAdapters: withAdapters);   // [B, T, C]
            predicting = Ops.Embedding(hidden.Reshape(B * T, hidden.Dim(2)), gather.ToArray(), N);                // [N, C]
            logits = model.LmHead(predicting, withAdapters);                                                       // [N, V]
        }
        // logits · (1/T): the product the sampler takes (Sampler.LogProb), so equal logits give bitwise equal log-probs.
        if (temperature != 1f) logits = Ops.Scale(logits, 1f / temperature);
        var tokenLogProbs = Ops.TokenLogProbs(logits, targets.ToArray());                                      // [N]
        var logProbs = Scatter(tokenLogProbs.Reshape(N, 1), slots, B, Tc).Reshape(B, Tc);                      // [B, Tc]
        return new CompletionForward(logProbs, mask, B, Tc,
            entropy ? Entropies(logits, slots) : null,
            keepHidden ? Scatter(predicting, slots, B, Tc) : null);                                           // [B, Tc, C]
    }

    /// <summary>The forward of <paramref name="rollouts"/>' prompts and exact sampled tokens (see <see cref="Compute"/>).</summary>
    public static CompletionForward Compute(TransformerModel model, IReadOnlyList<Rollout> rollouts, float temperature = 1f,
        bool withAdapters = true, bool entropy = false, bool keepHidden = false) =>
        Compute(model, rollouts.Select(CompletionRow.Of).ToList(), temperature, withAdapters, entropy, keepHidden);

    /// <summary>
    /// max |training log-prob − sampling log-prob| over every real completion token: 0 up to float rounding when the
    /// forward ran on the weights and temperature that sampled <paramref name="rollouts"/> (row b of the forward is
    /// rollout b). The online trainers report it as a metric; a large value means the importance ratio of the first
    /// iteration is not 1.
    /// </summary>
    /// <exception cref="ArgumentException">The rollouts do not match the forward's rows (count or completion lengths).</exception>
    public static float MaxDeviation(CompletionForward forward, IReadOnlyList<Rollout> rollouts)
    {
        if (rollouts.Count != forward.B)
            throw new ArgumentException($"max deviation: {rollouts.Count} rollouts for a forward of {forward.B} rows", nameof(rollouts));
        var values = forward.LogProbs.Contiguous().Span;
        float max = 0f;
        for (int b = 0; b < forward.B; b++)
        {
            var sampled = rollouts[b].LogProbs;
            int real = 0;
            for (int t = 0; t < forward.T; t++) if (forward.Mask[b * forward.T + t] != 0f) real++;
            if (sampled.Length != real)
                throw new ArgumentException($"max deviation: rollout {b} has {sampled.Length} log-probs, the forward {real} completion tokens", nameof(rollouts));
            for (int t = 0; t < real; t++) max = MathF.Max(max, MathF.Abs(values[b * forward.T + t] - sampled[t]));
        }
        return max;
    }

    /// <summary>rows [N, D] into slots [B, Tc] (slot value N = padding, filled with 0) → [B, Tc, D]; the gradient flows back to the rows.</summary>
    private static Tensor Scatter(Tensor rows, int[] slots, int B, int Tc)
    {
        int D = rows.Dim(1);
        var withZero = Ops.Concat([rows, Tensor.Zeros(1, D)], 0);   // [N + 1, D]
        return Ops.Embedding(withZero, slots, B, Tc);
    }

    /// <summary>[B·Tc] H = lse − Σ p·x of each row of logits x [N, V] (the tempered distribution), 0 on padding.</summary>
    private static float[] Entropies(Tensor logits, int[] slots)
    {
        var x = logits.Contiguous();
        int N = x.Dim(0), V = x.Dim(1);
        var perRow = new float[N];
        float[] data = x.Data; int offset = x.Offset;
        RowParallel.For(N, V * 3L, (r0, r1) =>
        {
            var p = new float[V];
            for (int r = r0; r < r1; r++)
            {
                var row = data.AsSpan(offset + r * V, V);
                float lse = SoftmaxKernel.LogSumExp(row);
                TensorPrimitives.Subtract(row, lse, p);
                TensorPrimitives.Exp(p, p);
                perRow[r] = lse - TensorPrimitives.Dot(p, row);
            }
        });
        var entropy = new float[slots.Length];
        for (int i = 0; i < slots.Length; i++) entropy[i] = slots[i] < N ? perRow[slots[i]] : 0f;
        return entropy;
    }
}
