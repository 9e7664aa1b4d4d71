using AlignSharp.Tensors.Kernels;

namespace AlignSharp.Tensors;

public static partial class Ops
{
    /// <summary>Joins tensors along <paramref name="axis"/>; all other axes must match. Backward splits the gradient.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> tensors, int axis)
    {
        if (tensors.Count == 0) throw new ArgumentException("concat: no tensors given");
        var xs = tensors.Select(t => t.Contiguous()).ToArray();
        int rank = xs[0].Rank;
        int ax = ShapeUtil.NormalizeAxis("concat", axis, rank);
        var shape = xs[0].ShapeArray.ToArray();
        shape[ax] = 0;
        foreach (var t in xs)
        {
            bool fits = t.Rank == rank;
            for (int i = 0; fits && i < rank; i++) fits = i == ax || t.Dim(i) == xs[0].Dim(i);
            if (!fits)
                throw new ArgumentException($"concat: shapes {string.Join(" and ", xs.Select(x => $"[{ShapeUtil.Format(x.Shape)}]"))} differ outside axis {axis}");
            shape[ax] += t.Dim(ax);
        }
        int outer = ShapeUtil.Count(shape.AsSpan(0, ax)), inner = ShapeUtil.Count(shape.AsSpan(ax + 1));
        int outRow = shape[ax] * inner;
        var y = Tensor.Uninitialized(shape);
        var ys = y.Span;
        int start = 0;
        var starts = new int[xs.Length];
        for (int n = 0; n < xs.Length; n++)
        {
            starts[n] = start;
            int row = xs[n].Dim(ax) * inner;
            var s = xs[n].Span;
            for (int o = 0; o < outer; o++) s.Slice(o * row, row).CopyTo(ys.Slice(o * outRow + start, row));
            start += row;
        }
        if (Autograd.ShouldRecord(xs))
            y.SetBackward("concat", xs, () =>
            {
                var g = y.Grad!.Span;
                for (int n = 0; n < xs.Length; n++)
                {
                    if (!xs[n].RequiresGrad) continue;
                    int row = xs[n].Dim(ax) * inner;
                    var dx = xs[n].GradSpan();
                    for (int o = 0; o < outer; o++) Elementwise.AddInto(dx.Slice(o * row, row), g.Slice(o * outRow + starts[n], row));
                }
            });
        return y;
    }

    /// <summary>Copies positions [start, start+length) of <paramref name="axis"/> (e.g. splitting fused q/k/v projections).</summary>
    public static Tensor Narrow(Tensor x, int axis, int start, int length)
    {
        x = x.Contiguous();
        int ax = ShapeUtil.NormalizeAxis("narrow", axis, x.Rank);
        if (start < 0 || length < 0 || start + length > x.Dim(ax))
            throw new ArgumentOutOfRangeException(nameof(start), $"narrow: [{start}, {start + length}) is outside axis {axis} of shape [{ShapeUtil.Format(x.Shape)}]");
        var shape = x.ShapeArray.ToArray();
        shape[ax] = length;
        int outer = ShapeUtil.Count(shape.AsSpan(0, ax)), inner = ShapeUtil.Count(shape.AsSpan(ax + 1));
        int inRow = x.Dim(ax) * inner, outRow = length * inner;
        var y = Tensor.Uninitialized(shape);
        var xs = x.Span; var ys = y.Span;
        for (int o = 0; o < outer; o++) xs.Slice(o * inRow + start * inner, outRow).CopyTo(ys.Slice(o * outRow, outRow));
        if (Autograd.ShouldRecord(x))
            y.SetBackward("narrow", [x], () =>
            {
                var g = y.Grad!.Span; var dx = x.GradSpan();
                for (int o = 0; o < outer; o++) Elementwise.AddInto(dx.Slice(o * inRow + start * inner, outRow), g.Slice(o * outRow, outRow));
            });
        return y;
    }

    /// <summary>Swaps two axes, materialising the result (e.g. [B, T, H, D] → [B, H, T, D]).</summary>
    public static Tensor Transpose(Tensor x, int axis0, int axis1)
    {
        x = x.Contiguous();
        int a0 = ShapeUtil.NormalizeAxis("transpose", axis0, x.Rank), a1 = ShapeUtil.NormalizeAxis("transpose", axis1, x.Rank);
        var perm = Enumerable.Range(0, x.Rank).ToArray();
        (perm[a0], perm[a1]) = (perm[a1], perm[a0]);
        var shape = perm.Select(p => x.Dim(p)).ToArray();
        var y = Tensor.Uninitialized(shape);
        Permute(x.Span, x.ShapeArray, perm, y.Span, add: false);
        if (Autograd.ShouldRecord(x))
            y.SetBackward("transpose", [x], () => Permute(y.Grad!.Span, shape, perm, x.GradSpan(), add: true));
        return y;
    }

    /// <summary>dst[i₀..] (=|+=) src at the permuted index; dst axis k is src axis perm[k].</summary>
    private static void Permute(ReadOnlySpan<float> src, int[] srcShape, int[] perm, Span<float> dst, bool add)
    {
        int rank = srcShape.Length;
        if (rank == 0) { if (add) dst[0] += src[0]; else dst[0] = src[0]; return; }
        var srcStride = new int[rank];
        for (int i = rank - 1, s = 1; i >= 0; i--) { srcStride[i] = s; s *= srcShape[i]; }
        var dstShape = perm.Select(p => srcShape[p]).ToArray();
        var stride = perm.Select(p => srcStride[p]).ToArray();
        var index = new int[rank];
        int inner = dstShape[^1], innerStride = stride[^1], outer = dst.Length / Math.Max(inner, 1);
        for (int o = 0, d = 0; o < outer; o++)
        {
            int off = 0;
            for (int i = 0; i < rank - 1; i++) off += index[i] * stride[i];
            for (int j = 0; j < inner; j++, d++)
            {
                if (add) dst[d] += src[off + j * innerStride]; else dst[d] = src[off + j * innerStride];
            }
            for (int i = rank - 2; i >= 0; i--)
            {
                if (++index[i] < dstShape[i]) break;
                index[i] = 0;
            }
        }
    }

    /// <summary>SwiGLU (Shazeer 2020): silu(gate) ⊙ up, the Llama MLP's gate. d gate = g·up·silu'(gate), d up = g·silu(gate).</summary>
    public static Tensor SwiGlu(Tensor gate, Tensor up)
    {
        gate = gate.Contiguous(); up = up.Contiguous();
        ShapeUtil.RequireSame("swiglu", gate, up);
        var y = Tensor.Uninitialized(gate.ShapeArray.ToArray());
        float[] gd = gate.Data, ud = up.Data, yd = y.Data; int gof = gate.Offset, uof = up.Offset, yof = y.Offset;
        const int chunk = 4096;
        int n = y.Length, chunks = (n + chunk - 1) / chunk;
        RowParallel.For(chunks, chunk * 4L, (c0, c1) =>
        {
            int start = c0 * chunk, count = Math.Min(n, c1 * chunk) - start;
            var ys = yd.AsSpan(yof + start, count);
            System.Numerics.Tensors.TensorPrimitives.Sigmoid(gd.AsSpan(gof + start, count), ys);
            System.Numerics.Tensors.TensorPrimitives.Multiply(ys, gd.AsSpan(gof + start, count), ys);
            System.Numerics.Tensors.TensorPrimitives.Multiply(ys, ud.AsSpan(uof + start, count), ys);
        });
        if (Autograd.ShouldRecord(gate, up))
            y.SetBackward("swiglu", [gate, up], () =>
            {
                var g = y.Grad!;
                float[] ggd = g.Data; int go = g.Offset;
                if (gate.RequiresGrad) gate.GradSpan();
                if (up.RequiresGrad) up.GradSpan();
                float[]? dgate = gate.Grad?.Data, dup = up.Grad?.Data;
                int dgo = gate.Grad?.Offset ?? 0, duo = up.Grad?.Offset ?? 0;
                RowParallel.For(chunks, chunk * 8L, (c0, c1) =>
                {
                    int start = c0 * chunk, count = Math.Min(n, c1 * chunk) - start;
                    var gs = ggd.AsSpan(go + start, count);
                    if (dgate is not null)
                        SiluBackward(gd.AsSpan(gof + start, count), gs, ud, dgate.AsSpan(dgo + start, count), uof + start);
                    if (dup is not null)
                    {
                        // d up += g·silu(gate)
                        Span<float> s = stackalloc float[256];
                        for (int i = 0; i < count; i += 256)
                        {
                            int m = Math.Min(256, count - i);
                            var ss = s[..m]; var xs = gd.AsSpan(gof + start + i, m);
                            System.Numerics.Tensors.TensorPrimitives.Sigmoid(xs, ss);
                            System.Numerics.Tensors.TensorPrimitives.Multiply(ss, xs, ss);
                            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(ss, gs.Slice(i, m), dup.AsSpan(duo + start + i, m), dup.AsSpan(duo + start + i, m));
                        }
                    }
                });
            });
        return y;
    }
}
