using System.Numerics.Tensors;

namespace AlignSharp.Tensors.Kernels;

/// <summary>Numerically stable softmax rows (subtract the max before exponentiating).</summary>
internal static class SoftmaxKernel
{
    public static void Row(ReadOnlySpan<float> x, Span<float> y)
    {
        float max = Elementwise.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        TensorPrimitives.Exp(y, y);
        float sum = Elementwise.Sum(y);
        TensorPrimitives.Multiply(y, 1f / sum, y);
    }

    /// <summary>log Σ eˣ, stable.</summary>
    public static float LogSumExp(ReadOnlySpan<float> x)
    {
        float max = Elementwise.Max(x);
        if (float.IsNegativeInfinity(max)) return max;
        // Exponentiate in fixed chunks through a stack buffer so the SIMD exp can be used without a heap temporary.
        Span<float> chunk = stackalloc float[256];
        float sum = 0f;
        for (int i = 0; i < x.Length; i += chunk.Length)
        {
            var part = x.Slice(i, Math.Min(chunk.Length, x.Length - i));
            var tmp = chunk[..part.Length];
            TensorPrimitives.Subtract(part, max, tmp);
            TensorPrimitives.Exp(tmp, tmp);
            sum += Elementwise.Sum(tmp);
        }
        return max + MathF.Log(sum);
    }

    /// <summary>dx += scale · exp(x − lse): the softmax term of a cross-entropy or log-prob gradient.</summary>
    public static void AddScaledSoftmax(ReadOnlySpan<float> x, float lse, float scale, Span<float> dx)
    {
        Span<float> chunk = stackalloc float[256];
        for (int i = 0; i < x.Length; i += chunk.Length)
        {
            int n = Math.Min(chunk.Length, x.Length - i);
            var tmp = chunk[..n];
            TensorPrimitives.Subtract(x.Slice(i, n), lse, tmp);
            TensorPrimitives.Exp(tmp, tmp);
            TensorPrimitives.MultiplyAdd(tmp, scale, dx.Slice(i, n), dx.Slice(i, n));
        }
    }

    /// <summary>dx += y ⊙ (g − dot), the softmax backward with dot = Σ g ⊙ y.</summary>
    public static void AddSoftmaxBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> g, float dot, Span<float> dx)
    {
        Span<float> chunk = stackalloc float[256];
        for (int i = 0; i < y.Length; i += chunk.Length)
        {
            int n = Math.Min(chunk.Length, y.Length - i);
            var tmp = chunk[..n];
            TensorPrimitives.Subtract(g.Slice(i, n), dot, tmp);
            TensorPrimitives.MultiplyAdd(tmp, y.Slice(i, n), dx.Slice(i, n), dx.Slice(i, n));
        }
    }
}
