using System.Numerics.Tensors;
using AlignSharp.Tensors;
using AlignSharp.Tensors.Kernels;

namespace AlignSharp.Models.Generation;

/// <summary>
/// Picks the next token from one row of logits: repetition penalty, then (unless greedy) temperature, top-k,
/// top-p and min-p — the order of Hugging Face's logits processors and warpers — then a seeded draw.
/// </summary>
internal sealed class Sampler(GenerationOptions options)
{
    private readonly Rng _rng = new(options.Seed);

    public int Next(Span<float> logits, IEnumerable<int> history)
    {
        if (options.RepetitionPenalty != 1f)
            foreach (int id in history.Distinct())
                logits[id] = logits[id] < 0 ? logits[id] * options.RepetitionPenalty : logits[id] / options.RepetitionPenalty;
        if (options.Temperature == 0f) return ArgMax(logits);

        int v = logits.Length;
        var probs = new float[v];
        float inv = 1f / options.Temperature;
        for (int i = 0; i < v; i++) probs[i] = logits[i] * inv;
        var order = Descending(probs);
        int keep = v;
        if (options.TopK > 0) keep = Math.Min(keep, options.TopK);

        // Softmax over the kept candidates (sorted, so the max is first).
        float max = probs[order[0]];
        var p = new double[keep];
        double sum = 0;
        for (int i = 0; i < keep; i++) sum += p[i] = Math.Exp(probs[order[i]] - max);
        for (int i = 0; i < keep; i++) p[i] /= sum;
        if (options.TopP < 1f)
        {
            // Keep the smallest prefix reaching top_p (at least one token).
            double cumulative = 0;
            for (int i = 0; i < keep; i++)
            {
                cumulative += p[i];
                if (cumulative >= options.TopP) { keep = i + 1; break; }
            }
        }
        if (options.MinP > 0f)
        {
            double threshold = options.MinP * p[0];
            int k = 1;
            while (k < keep && p[k] >= threshold) k++;
            keep = k;
        }
        double total = 0;
        for (int i = 0; i < keep; i++) total += p[i];
        double r = _rng.NextDouble() * total;
        for (int i = 0; i < keep; i++)
        {
            r -= p[i];
            if (r < 0) return order[i];
        }
        return order[keep - 1];
    }

    /// <summary>
    /// The log-prob recorded for a sampled token: rowLogits[token] − <paramref name="lse"/> (lse = logsumexp(rowLogits)), or,
    /// with <see cref="GenerationOptions.LogProbsAtTemperature"/> and 0 &lt; T ≠ 1, log softmax(rowLogits · (1/T))[token].
    /// The product by 1/T is elementwise, as Ops.Scale computes it, so a training forward that scales the same logits by 1/T
    /// and takes Ops.TokenLogProbs gets this number bitwise. <paramref name="scratch"/> (≥ V floats) is overwritten.
    /// </summary>
    internal static float LogProb(ReadOnlySpan<float> rowLogits, int token, float lse, GenerationOptions options, float[] scratch)
    {
        if (!options.LogProbsAtTemperature || options.Temperature == 0f || options.Temperature == 1f) return rowLogits[token] - lse;
        var scaled = scratch.AsSpan(0, rowLogits.Length);
        TensorPrimitives.Multiply(rowLogits, 1f / options.Temperature, scaled);
        return scaled[token] - SoftmaxKernel.LogSumExp(scaled);
    }

    /// <summary>
    /// Indices of <paramref name="values"/> by descending value, ties by ascending index (float.CompareTo's order: NaN
    /// lowest, −0 = +0) — one sort of 64-bit keys (the value's order-preserving bits inverted, over the index) instead of
    /// a comparison delegate per pair, the sampler's cost at large vocabularies.
    /// </summary>
    internal static int[] Descending(float[] values)
    {
        var keys = new ulong[values.Length];
        for (int i = 0; i < values.Length; i++) keys[i] = (ulong)~OrderedBits(values[i]) << 32 | (uint)i;
        Array.Sort(keys);
        var order = new int[values.Length];
        for (int i = 0; i < order.Length; i++) order[i] = (int)(uint)keys[i];
        return order;
    }

    /// <summary>Bits that compare as float.CompareTo compares the values.</summary>
    private static uint OrderedBits(float x)
    {
        if (float.IsNaN(x)) return 0;
        uint bits = BitConverter.SingleToUInt32Bits(x + 0f); // −0 + 0 = +0
        return (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
    }

    internal static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
