using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AlignSharp.Tensors.Kernels;

/// <summary>Element-wise and reduction building blocks. Reductions use a fixed summation order
/// (fixed vector lanes, then a fixed tree), so results depend only on the data, never on alignment.</summary>
internal static class Elementwise
{
    /// <summary>dst += src.</summary>
    public static void AddInto(Span<float> dst, ReadOnlySpan<float> src)
    {
        if (dst.Length != src.Length) throw new ArgumentException($"AddInto: lengths {dst.Length} and {src.Length} differ");
        TensorPrimitives.Add(dst, src, dst);
    }

    /// <summary>dst += scale·src.</summary>
    public static void AddScaledInto(Span<float> dst, ReadOnlySpan<float> src, float scale) =>
        TensorPrimitives.MultiplyAdd(src, scale, dst, dst);

    /// <summary>Deterministic sum (float32 lanes, fixed order).</summary>
    public static float Sum(ReadOnlySpan<float> x)
    {
        int i = 0;
        float total = 0f;
        if (Vector512.IsHardwareAccelerated && x.Length >= 64)
        {
            var a0 = Vector512<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0;
            ref float r = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
            for (; i + 64 <= x.Length; i += 64)
            {
                a0 += Vector512.LoadUnsafe(ref r, (nuint)i);
                a1 += Vector512.LoadUnsafe(ref r, (nuint)(i + 16));
                a2 += Vector512.LoadUnsafe(ref r, (nuint)(i + 32));
                a3 += Vector512.LoadUnsafe(ref r, (nuint)(i + 48));
            }
            total = Vector512.Sum((a0 + a1) + (a2 + a3));
        }
        else if (Vector256.IsHardwareAccelerated && x.Length >= 32)
        {
            var a0 = Vector256<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0;
            ref float r = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
            for (; i + 32 <= x.Length; i += 32)
            {
                a0 += Vector256.LoadUnsafe(ref r, (nuint)i);
                a1 += Vector256.LoadUnsafe(ref r, (nuint)(i + 8));
                a2 += Vector256.LoadUnsafe(ref r, (nuint)(i + 16));
                a3 += Vector256.LoadUnsafe(ref r, (nuint)(i + 24));
            }
            total = Vector256.Sum((a0 + a1) + (a2 + a3));
        }
        for (; i < x.Length; i++) total += x[i];
        return total;
    }

    /// <summary>Maximum element (−∞ for an empty span). Plain vector max: NaN handling is left to the caller.</summary>
    public static float Max(ReadOnlySpan<float> x)
    {
        int i = 0;
        float best = float.NegativeInfinity;
        ref float r = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        if (Vector512.IsHardwareAccelerated && x.Length >= 32)
        {
            var m0 = Vector512.Create(float.NegativeInfinity); var m1 = m0;
            for (; i + 32 <= x.Length; i += 32)
            {
                m0 = Vector512.Max(m0, Vector512.LoadUnsafe(ref r, (nuint)i));
                m1 = Vector512.Max(m1, Vector512.LoadUnsafe(ref r, (nuint)(i + 16)));
            }
            m0 = Vector512.Max(m0, m1);
            for (int l = 0; l < 16; l++) best = MathF.Max(best, m0.GetElement(l));
        }
        else if (Vector256.IsHardwareAccelerated && x.Length >= 16)
        {
            var m0 = Vector256.Create(float.NegativeInfinity);
            for (; i + 8 <= x.Length; i += 8) m0 = Vector256.Max(m0, Vector256.LoadUnsafe(ref r, (nuint)i));
            for (int l = 0; l < 8; l++) best = MathF.Max(best, m0.GetElement(l));
        }
        for (; i < x.Length; i++) best = MathF.Max(best, Unsafe.Add(ref r, i));
        return best;
    }

    /// <summary>Deterministic dot product (fixed order).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = a.Length, i = 0;
        float total = 0f;
        ref float ra = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(a);
        ref float rb = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(b);
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var acc0 = Vector512<float>.Zero; var acc1 = acc0;
            for (; i + 32 <= n; i += 32)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref ra, (nuint)i), Vector512.LoadUnsafe(ref rb, (nuint)i), acc0);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref ra, (nuint)(i + 16)), Vector512.LoadUnsafe(ref rb, (nuint)(i + 16)), acc1);
            }
            for (; i + 16 <= n; i += 16)
                acc0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref ra, (nuint)i), Vector512.LoadUnsafe(ref rb, (nuint)i), acc0);
            total = Vector512.Sum(acc0 + acc1);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var acc0 = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8)
                acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref ra, (nuint)i), Vector256.LoadUnsafe(ref rb, (nuint)i), acc0);
            total = Vector256.Sum(acc0);
        }
        for (; i < n; i++) total = MathF.FusedMultiplyAdd(Unsafe.Add(ref ra, i), Unsafe.Add(ref rb, i), total);
        return total;
    }

    /// <summary>dst[b, c, r] = src[b, r, c] for src of shape [batch, rows, cols].</summary>
    public static void TransposeLastTwo(ReadOnlySpan<float> src, Span<float> dst, int batch, int rows, int cols)
    {
        const int Tile = 32;
        for (int b = 0; b < batch; b++)
        {
            var s = src.Slice(b * rows * cols, rows * cols);
            var d = dst.Slice(b * rows * cols, rows * cols);
            for (int r0 = 0; r0 < rows; r0 += Tile)
                for (int c0 = 0; c0 < cols; c0 += Tile)
                {
                    int r1 = Math.Min(rows, r0 + Tile), c1 = Math.Min(cols, c0 + Tile);
                    for (int r = r0; r < r1; r++)
                        for (int c = c0; c < c1; c++)
                            d[c * rows + r] = s[r * cols + c];
                }
        }
    }

    /// <summary>dst[b, c, r] += src[b, r, c] for src of shape [batch, rows, cols].</summary>
    public static void TransposeLastTwoAdd(ReadOnlySpan<float> src, Span<float> dst, int batch, int rows, int cols)
    {
        for (int b = 0; b < batch; b++)
        {
            var s = src.Slice(b * rows * cols, rows * cols);
            var d = dst.Slice(b * rows * cols, rows * cols);
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++)
                    d[c * rows + r] += s[r * cols + c];
        }
    }
}
