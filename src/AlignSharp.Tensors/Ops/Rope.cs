namespace AlignSharp.Tensors;

/// <summary>
/// Cos/sin tables for rotary position embeddings (Su et al. 2021, RoFormer), computed in float32
/// the way Hugging Face computes them: invFreqᵢ = 1/θ^(2i/D), angle = position·invFreqᵢ.
/// Custom inverse frequencies (Llama-3 rope_scaling) can be passed in directly.
/// </summary>
public sealed class RopeTable
{
    public int HeadDim { get; }
    public int MaxPositions { get; }
    internal float[] Cos { get; }  // [MaxPositions, HeadDim/2]
    internal float[] Sin { get; }

    public RopeTable(int headDim, int maxPositions, float theta = 10000f, float[]? inverseFrequencies = null)
    {
        if (headDim <= 0 || headDim % 2 != 0) throw new ArgumentException($"rope: head dimension must be even and positive (got {headDim})");
        int half = headDim / 2;
        var inv = inverseFrequencies ?? DefaultInverseFrequencies(headDim, theta);
        if (inv.Length != half) throw new ArgumentException($"rope: {inv.Length} inverse frequencies given for head dimension {headDim} (need {half})");
        HeadDim = headDim; MaxPositions = maxPositions;
        Cos = new float[maxPositions * half]; Sin = new float[maxPositions * half];
        for (int p = 0; p < maxPositions; p++)
            for (int i = 0; i < half; i++)
            {
                float angle = p * inv[i];
                Cos[p * half + i] = MathF.Cos(angle);
                Sin[p * half + i] = MathF.Sin(angle);
            }
    }

    /// <summary>1/θ^(2i/D) for i in [0, D/2), in float32 as PyTorch computes it.</summary>
    public static float[] DefaultInverseFrequencies(int headDim, float theta)
    {
        var inv = new float[headDim / 2];
        for (int i = 0; i < inv.Length; i++) inv[i] = 1f / MathF.Pow(theta, (2 * i) / (float)headDim);
        return inv;
    }
}

public static partial class Ops
{
    /// <summary>
    /// Rotary position embedding, rotate-half form (pairs i and i + D/2, as Hugging Face Llama/Qwen2):
    /// yᵢ = xᵢ cos − x_{i+D/2} sin, y_{i+D/2} = x_{i+D/2} cos + xᵢ sin. x is [B, T, H, D].
    /// Positions are <paramref name="positionOffset"/> + t (a KV cache's offset), or taken from
    /// <paramref name="positions"/> [B·T] when given (left-padded batches).
    /// Backward applies the inverse rotation (the transpose) to the gradient.
    /// </summary>
    public static Tensor Rope(Tensor x, RopeTable table, int positionOffset = 0, int[]? positions = null)
    {
        x = x.Contiguous();
        if (x.Rank != 4 || x.Dim(3) != table.HeadDim)
            throw new ArgumentException($"rope: input must be [B, T, H, {table.HeadDim}], got [{ShapeUtil.Format(x.Shape)}]");
        int b = x.Dim(0), t = x.Dim(1), h = x.Dim(2), d = x.Dim(3), half = d / 2;
        if (positions is not null && positions.Length != b * t)
            throw new ArgumentException($"rope: {positions.Length} positions given for a [{b}, {t}] batch");
        int Position(int bi, int ti)
        {
            int p = positions is null ? positionOffset + ti : positions[bi * t + ti];
            if ((uint)p >= (uint)table.MaxPositions)
                throw new ArgumentOutOfRangeException(nameof(positions), $"rope: position {p} is outside the table's {table.MaxPositions} positions");
            return p;
        }
        var y = Tensor.Uninitialized(x.ShapeArray.ToArray());
        var xs = x.Span; var ys = y.Span;
        for (int bi = 0; bi < b; bi++)
            for (int ti = 0; ti < t; ti++)
            {
                int p = Position(bi, ti);
                var cos = table.Cos.AsSpan(p * half, half); var sin = table.Sin.AsSpan(p * half, half);
                for (int hi = 0; hi < h; hi++)
                {
                    int o = ((bi * t + ti) * h + hi) * d;
                    for (int i = 0; i < half; i++)
                    {
                        float x1 = xs[o + i], x2 = xs[o + half + i];
                        ys[o + i] = x1 * cos[i] - x2 * sin[i];
                        ys[o + half + i] = x2 * cos[i] + x1 * sin[i];
                    }
                }
            }
        if (Autograd.ShouldRecord(x))
            y.SetBackward("rope", [x], () =>
            {
                var g = y.Grad!.Span; var dx = x.GradSpan();
                for (int bi = 0; bi < b; bi++)
                    for (int ti = 0; ti < t; ti++)
                    {
                        int p = Position(bi, ti);
                        var cos = table.Cos.AsSpan(p * half, half); var sin = table.Sin.AsSpan(p * half, half);
                        for (int hi = 0; hi < h; hi++)
                        {
                            int o = ((bi * t + ti) * h + hi) * d;
                            for (int i = 0; i < half; i++)
                            {
                                float g1 = g[o + i], g2 = g[o + half + i];
                                dx[o + i] += g1 * cos[i] + g2 * sin[i];
                                dx[o + half + i] += g2 * cos[i] - g1 * sin[i];
                            }
                        }
                    }
            });
        return y;
    }
}
