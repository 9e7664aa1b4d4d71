using System.Numerics.Tensors;

namespace AlignSharp.Tensors;

public static partial class Ops
{
    /// <summary>Forward fills y from x; backward adds into dx given x, y and the output gradient g.</summary>
    private delegate void UnaryForward(ReadOnlySpan<float> x, Span<float> y);
    private delegate void UnaryBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> g, Span<float> dx);

    private const int UnaryChunk = 4096;

    /// <summary>Runs an element-wise op over fixed chunks of <see cref="UnaryChunk"/> elements, in parallel when large.</summary>
    private static Tensor Unary(string name, Tensor x, UnaryForward forward, UnaryBackward backward)
    {
        x = x.Contiguous();
        var y = Tensor.Uninitialized(x.ShapeArray.ToArray());
        int n = x.Length, chunks = (n + UnaryChunk - 1) / UnaryChunk;
        float[] xd = x.Data, yd = y.Data; int xo = x.Offset, yo = y.Offset;
        Kernels.RowParallel.For(chunks, UnaryChunk * 4L, (c0, c1) =>
        {
            int start = c0 * UnaryChunk, count = Math.Min(n, c1 * UnaryChunk) - start;
            forward(xd.AsSpan(xo + start, count), yd.AsSpan(yo + start, count));
        });
        if (Autograd.ShouldRecord(x))
            y.SetBackward(name, [x], () =>
            {
                x.GradSpan();
                float[] gd = y.Grad!.Data, dxd = x.Grad!.Data; int go = y.Grad.Offset, dxo = x.Grad.Offset;
                Kernels.RowParallel.For(chunks, UnaryChunk * 6L, (c0, c1) =>
                {
                    int start = c0 * UnaryChunk, count = Math.Min(n, c1 * UnaryChunk) - start;
                    backward(xd.AsSpan(xo + start, count), yd.AsSpan(yo + start, count), gd.AsSpan(go + start, count), dxd.AsSpan(dxo + start, count));
                });
            });
        return y;
    }


    /// <summary>eˣ; d/dx = y.</summary>
    public static Tensor Exp(Tensor x) => Unary("exp", x,
        (x, y) => TensorPrimitives.Exp(x, y),
        (x, y, g, dx) => { for (int i = 0; i < dx.Length; i++) dx[i] += g[i] * y[i]; });

    /// <summary>ln x; d/dx = 1/x.</summary>
    public static Tensor Log(Tensor x) => Unary("log", x,
        (x, y) => TensorPrimitives.Log(x, y),
        (x, y, g, dx) => { for (int i = 0; i < dx.Length; i++) dx[i] += g[i] / x[i]; });

    /// <summary>σ(x) = 1/(1+e⁻ˣ); d/dx = y(1−y).</summary>
    public static Tensor Sigmoid(Tensor x) => Unary("sigmoid", x,
        (x, y) => TensorPrimitives.Sigmoid(x, y),
        (x, y, g, dx) => { for (int i = 0; i < dx.Length; i++) dx[i] += g[i] * y[i] * (1f - y[i]); });

    /// <summary>log σ(x) = min(x, 0) − log(1 + e^−|x|) (stable for large |x|); d/dx = σ(−x).</summary>
    public static Tensor LogSigmoid(Tensor x) => Unary("logsigmoid", x,
        (x, y) => { for (int i = 0; i < y.Length; i++) y[i] = MathF.Min(x[i], 0f) - MathF.Log(1f + MathF.Exp(-MathF.Abs(x[i]))); },
        (x, y, g, dx) => { for (int i = 0; i < dx.Length; i++) dx[i] += g[i] * StableSigmoid(-x[i]); });

    /// <summary>softplus(x) = log(1 + eˣ); d/dx = σ(x).</summary>
    public static Tensor Softplus(Tensor x) => Unary("softplus", x,
        (x, y) => { for (int i = 0; i < y.Length; i++) y[i] = MathF.Max(x[i], 0f) + MathF.Log(1f + MathF.Exp(-MathF.Abs(x[i]))); },
        (x, y, g, dx) => { for (int i = 0; i < dx.Length; i++) dx[i] += g[i] * StableSigmoid(x[i]); });

    /// <summary>tanh x; d/dx = 1 − y².</summary>
    public static Tensor Tanh(Tensor x) => Unary("tanh", x,
        (x, y) => TensorPrimitives.Tanh(x, y),
        (x, y, g, dx) => { for (int i = 0; i < dx.Length; i++) dx[i] += g[i] * (1f - y[i] * y[i]); });

    /// <summary>max(x, 0); d/dx = [x &gt; 0].</summary>
    public static Tensor Relu(Tensor x) => Unary("relu", x,
        (x, y) => TensorPrimitives.Max(x, 0f, y),
        (x, y, g, dx) => { for (int i = 0; i < dx.Length; i++) if (x[i] > 0f) dx[i] += g[i]; });

    /// <summary>SiLU x·σ(x); d/dx = σ(x)(1 + x(1 − σ(x))).</summary>
    public static Tensor Silu(Tensor x) => Unary("silu", x,
        (x, y) =>
        {
            TensorPrimitives.Sigmoid(x, y);
            TensorPrimitives.Multiply(y, x, y);
        },
        (x, y, g, dx) => SiluBackward(x, g, null, dx));

    /// <summary>dx += g·(σ(x)(1 + x(1 − σ(x)))) [·up when given] — shared by SiLU and SwiGLU.</summary>
    internal static void SiluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, float[]? upData, Span<float> dx, int upOffset = 0)
    {
        Span<float> s = stackalloc float[256], t = stackalloc float[256];
        for (int i = 0; i < x.Length; i += 256)
        {
            int n = Math.Min(256, x.Length - i);
            var xs = x.Slice(i, n); var ss = s[..n]; var ts = t[..n];
            TensorPrimitives.Sigmoid(xs, ss);
            TensorPrimitives.Subtract(1f, ss, ts);          // 1 − σ
            TensorPrimitives.MultiplyAdd(ts, xs, 1f, ts);   // 1 + x(1 − σ)
            TensorPrimitives.Multiply(ts, ss, ts);          // σ(1 + x(1 − σ))
            TensorPrimitives.Multiply(ts, g.Slice(i, n), ts);
            if (upData is not null) TensorPrimitives.Multiply(ts, upData.AsSpan(upOffset + i, n), ts);
            TensorPrimitives.Add(dx.Slice(i, n), ts, dx.Slice(i, n));
        }
    }

    private const float GeluC = 0.7978845608028654f; // √(2/π)
    private const float GeluA = 0.044715f;

    /// <summary>GELU, tanh form: ½x(1 + tanh(√(2/π)(x + 0.044715x³))) (GPT-2's "gelu_new").
    /// d/dx = ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²), t = tanh(…).</summary>
    public static Tensor Gelu(Tensor x) => Unary("gelu", x,
        (x, y) =>
        {
            // u = x·(C + C·A·x²); y = ½x(1 + tanh u)
            Span<float> t = stackalloc float[256];
            for (int i = 0; i < x.Length; i += 256)
            {
                int n = Math.Min(256, x.Length - i);
                var xs = x.Slice(i, n); var ts = t[..n]; var ys = y.Slice(i, n);
                TensorPrimitives.Multiply(xs, xs, ts);
                TensorPrimitives.Multiply(ts, GeluC * GeluA, ts);
                TensorPrimitives.Add(ts, GeluC, ts);
                TensorPrimitives.Multiply(ts, xs, ts);
                TensorPrimitives.Tanh(ts, ts);
                TensorPrimitives.Add(ts, 1f, ts);
                TensorPrimitives.Multiply(ts, xs, ys);
                TensorPrimitives.Multiply(ys, 0.5f, ys);
            }
        },
        (x, y, g, dx) =>
        {
            Span<float> t = stackalloc float[256], x2 = stackalloc float[256], d = stackalloc float[256];
            for (int i = 0; i < x.Length; i += 256)
            {
                int n = Math.Min(256, x.Length - i);
                var xs = x.Slice(i, n); var ts = t[..n]; var sq = x2[..n]; var ds = d[..n];
                TensorPrimitives.Multiply(xs, xs, sq);
                TensorPrimitives.Multiply(sq, GeluC * GeluA, ts);
                TensorPrimitives.Add(ts, GeluC, ts);
                TensorPrimitives.Multiply(ts, xs, ts);
                TensorPrimitives.Tanh(ts, ts);                                  // t
                TensorPrimitives.Multiply(sq, 3f * GeluA * GeluC, sq);
                TensorPrimitives.Add(sq, GeluC, sq);                            // du/dx = C(1 + 3A x²)
                TensorPrimitives.Multiply(ts, ts, ds);
                TensorPrimitives.Subtract(1f, ds, ds);                          // 1 − t²
                TensorPrimitives.Multiply(ds, sq, ds);
                TensorPrimitives.Multiply(ds, xs, ds);                          // x(1 − t²)·du
                TensorPrimitives.Add(ds, ts, ds);
                TensorPrimitives.Add(ds, 1f, ds);                               // 1 + t + x(1 − t²)du
                TensorPrimitives.Multiply(ds, g.Slice(i, n), ds);
                TensorPrimitives.MultiplyAdd(ds, 0.5f, dx.Slice(i, n), dx.Slice(i, n));
            }
        });

    /// <summary>min(max(x, lo), hi); the gradient passes where lo ≤ x ≤ hi (as PyTorch).</summary>
    public static Tensor Clamp(Tensor x, float lo, float hi)
    {
        if (lo > hi) throw new ArgumentException($"clamp: lower bound {lo} is above upper bound {hi}");
        return Unary("clamp", x,
            (x, y) => { for (int i = 0; i < y.Length; i++) y[i] = MathF.Min(MathF.Max(x[i], lo), hi); },
            (x, y, g, dx) => { for (int i = 0; i < dx.Length; i++) if (x[i] >= lo && x[i] <= hi) dx[i] += g[i]; });
    }

    /// <summary>x²; d/dx = 2x.</summary>
    public static Tensor Square(Tensor x) => Unary("square", x,
        (x, y) => TensorPrimitives.Multiply(x, x, y),
        (x, y, g, dx) => { for (int i = 0; i < dx.Length; i++) dx[i] += 2f * x[i] * g[i]; });

    /// <summary>√x; d/dx = 1/(2y).</summary>
    public static Tensor Sqrt(Tensor x) => Unary("sqrt", x,
        (x, y) => TensorPrimitives.Sqrt(x, y),
        (x, y, g, dx) => { for (int i = 0; i < dx.Length; i++) dx[i] += g[i] / (2f * y[i]); });

    /// <summary>|x|; d/dx = sign(x) (0 at 0).</summary>
    public static Tensor Abs(Tensor x) => Unary("abs", x,
        (x, y) => TensorPrimitives.Abs(x, y),
        (x, y, g, dx) => { for (int i = 0; i < dx.Length; i++) dx[i] += g[i] * MathF.Sign(x[i]); });

    internal static float StableSigmoid(float v) => v >= 0 ? 1f / (1f + MathF.Exp(-v)) : MathF.Exp(v) / (1f + MathF.Exp(v));
}

public static partial class Ops
{
    /// <summary>Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1−p); d/dx is the same mask.</summary>
    public static Tensor Dropout(Tensor x, float p, Rng rng)
    {
        if (p < 0f || p >= 1f) throw new ArgumentOutOfRangeException(nameof(p), $"dropout: probability must be in [0, 1), got {p}");
        x = x.Contiguous();
        if (p == 0f) return x;
        var mask = new float[x.Length];
        float keep = 1f / (1f - p);
        for (int i = 0; i < mask.Length; i++) mask[i] = rng.NextDouble() < p ? 0f : keep;
        var y = Tensor.Uninitialized(x.ShapeArray.ToArray());
        TensorPrimitives.Multiply(x.Span, mask, y.Span);
        if (Autograd.ShouldRecord(x))
            y.SetBackward("dropout", [x], () => TensorPrimitives.MultiplyAdd(y.Grad!.Span, mask, x.GradSpan(), x.GradSpan()));
        return y;
    }
}
