using System.Numerics.Tensors;

namespace AlignSharp.Tensors.Kernels;

internal enum BinaryOp { Add, Sub, Mul, Div }

/// <summary>
/// Numpy-style broadcasting for binary ops. Axes are first coalesced (adjacent axes that are
/// contiguous in every operand, or broadcast in both, merge), so same-shape and bias-style
/// broadcasts run as a few long SIMD rows.
/// </summary>
internal sealed class BroadcastPlan
{
    public readonly int[] Shape;     // coalesced output shape
    public readonly int[] StrideA;   // coalesced strides of a (0 on broadcast axes)
    public readonly int[] StrideB;

    public BroadcastPlan(int[] outShape, int[] strideA, int[] strideB)
    {
        var shape = new List<int>(); var sa = new List<int>(); var sb = new List<int>();
        for (int i = 0; i < outShape.Length; i++)
        {
            if (outShape[i] == 1) continue;
            int n = shape.Count;
            if (n > 0 && sa[n - 1] == strideA[i] * outShape[i] && sb[n - 1] == strideB[i] * outShape[i])
            {
                shape[n - 1] *= outShape[i];
                sa[n - 1] = strideA[i];
                sb[n - 1] = strideB[i];
            }
            else { shape.Add(outShape[i]); sa.Add(strideA[i]); sb.Add(strideB[i]); }
        }
        if (shape.Count == 0) { shape.Add(1); sa.Add(0); sb.Add(0); }
        Shape = shape.ToArray(); StrideA = sa.ToArray(); StrideB = sb.ToArray();
    }

    /// <summary>Calls <paramref name="row"/>(offsetOut, offsetA, offsetB) for each run of the innermost axis.</summary>
    public void ForEachRow(Action<int, int, int> row)
    {
        int rank = Shape.Length, inner = Shape[^1];
        var index = new int[rank];
        int outer = 1;
        for (int i = 0; i < rank - 1; i++) outer *= Shape[i];
        for (int o = 0; o < outer; o++)
        {
            int offA = 0, offB = 0;
            for (int i = 0; i < rank - 1; i++) { offA += index[i] * StrideA[i]; offB += index[i] * StrideB[i]; }
            row(o * inner, offA, offB);
            for (int i = rank - 2; i >= 0; i--)
            {
                if (++index[i] < Shape[i]) break;
                index[i] = 0;
            }
        }
    }

    public int Inner => Shape[^1];
    public int InnerStrideA => StrideA[^1];
    public int InnerStrideB => StrideB[^1];

    /// <summary>y = a ∘ b over the broadcast shape.</summary>
    public void Apply(BinaryOp op, float[] a, int aOff, float[] b, int bOff, float[] y, int yOff)
    {
        int n = Inner, sa = InnerStrideA, sb = InnerStrideB;
        ForEachRow((o, oa, ob) =>
        {
            var dst = y.AsSpan(yOff + o, n);
            if (sa == 1 && sb == 1) Binary(op, a.AsSpan(aOff + oa, n), b.AsSpan(bOff + ob, n), dst);
            else if (sa == 1) BinaryScalarRight(op, a.AsSpan(aOff + oa, n), b[bOff + ob], dst);
            else if (sb == 1) BinaryScalarLeft(op, a[aOff + oa], b.AsSpan(bOff + ob, n), dst);
            else dst.Fill(Scalar(op, a[aOff + oa], b[bOff + ob]));
        });
    }

    /// <summary>dst (laid out with A's strides) += src (dense over the output shape): the reduction a broadcast's backward needs.</summary>
    public void ReduceIntoA(float[] src, int srcOff, float[] dst, int dstOff) => ReduceInto(src, srcOff, dst, dstOff, useA: true);

    /// <summary>As <see cref="ReduceIntoA"/> for operand B.</summary>
    public void ReduceIntoB(float[] src, int srcOff, float[] dst, int dstOff) => ReduceInto(src, srcOff, dst, dstOff, useA: false);

    private void ReduceInto(float[] src, int srcOff, float[] dst, int dstOff, bool useA)
    {
        int n = Inner, innerStride = useA ? InnerStrideA : InnerStrideB;
        ForEachRow((o, oa, ob) =>
        {
            int off = dstOff + (useA ? oa : ob);
            var s = src.AsSpan(srcOff + o, n);
            if (innerStride == 1) TensorPrimitives.Add(dst.AsSpan(off, n), s, dst.AsSpan(off, n));
            else dst[off] += Elementwise.Sum(s);
        });
    }

    private static void Binary(BinaryOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, y); break;
            default: TensorPrimitives.Divide(a, b, y); break;
        }
    }

    private static void BinaryScalarRight(BinaryOp op, ReadOnlySpan<float> a, float b, Span<float> y)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, y); break;
            default: TensorPrimitives.Divide(a, b, y); break;
        }
    }

    private static void BinaryScalarLeft(BinaryOp op, float a, ReadOnlySpan<float> b, Span<float> y)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(b, a, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(b, a, y); break;
            default: TensorPrimitives.Divide(a, b, y); break;
        }
    }

    private static float Scalar(BinaryOp op, float a, float b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        _ => a / b,
    };
}
