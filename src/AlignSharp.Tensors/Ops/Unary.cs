using System.Numerics.Tensors;

namespace AlignSharp.Tensors;

public static partial class Ops
{
    /// <summary>Forward fills y from x; backward adds into dx given x, y and the output gradient g.</summary>
    private delegate void UnaryForward(ReadOnlySpan<float> x, Span<float> y);
    private delegate void UnaryBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> g, Span<float> dx);

    private static Tensor Unary(string name, Tensor x, UnaryForward forward, UnaryBackward backward)
    {
        x = x.Contiguous();
        var y = Tensor.Uninitialized(x.ShapeArray.ToArray());
        forward(x.Span, y.Span);
        if (Autograd.ShouldRecord(x))
            y.SetBackward(name, [x], () => backward(x.Span, y.Span, y.Grad!.Span, x.GradSpan()));
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
        (x, y) => { for (int i = 0; i < y.Length; i++) y[i] = StableSigmoid(x[i]); },
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
        (x, y) => { for (int i = 0; i < y.Length; i++) y[i] = x[i] * StableSigmoid(x[i]); },
        (x, y, g, dx) =>
        {
            for (int i = 0; i < dx.Length; i++)
            {
                float s = StableSigmoid(x[i]);
                dx[i] += g[i] * s * (1f + x[i] * (1f - s));
            }
        });

    private const float GeluC = 0.7978845608028654f; // √(2/π)
    private const float GeluA = 0.044715f;

    /// <summary>GELU, tanh form: ½x(1 + tanh(√(2/π)(x + 0.044715x³))) (GPT-2's "gelu_new").</summary>
    public static Tensor Gelu(Tensor x) => Unary("gelu", x,
        (x, y) =>
        {
            for (int i = 0; i < y.Length; i++)
            {
                float v = x[i];
                y[i] = 0.5f * v * (1f + MathF.Tanh(GeluC * (v + GeluA * v * v * v)));
            }
        },
        (x, y, g, dx) =>
        {
            for (int i = 0; i < dx.Length; i++)
            {
                float v = x[i];
                float t = MathF.Tanh(GeluC * (v + GeluA * v * v * v));
                float du = GeluC * (1f + 3f * GeluA * v * v);
                dx[i] += g[i] * (0.5f * (1f + t) + 0.5f * v * (1f - t * t) * du);
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
