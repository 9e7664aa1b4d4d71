using AlignSharp.Tensors.Kernels;

namespace AlignSharp.Tensors;

public static partial class Ops
{
    /// <summary>
    /// RMSNorm over the last axis (Zhang &amp; Sennrich 2019; Llama): y = w ⊙ x·r, r = 1/√(mean(x²) + ε).
    /// Backward, with gw = g ⊙ w: dx = r·gw − (r³/C)·x·Σ(gw ⊙ x); dw = Σ_rows g ⊙ x·r.
    /// </summary>
    public static Tensor RmsNorm(Tensor x, Tensor weight, float eps)
    {
        x = x.Contiguous(); weight = weight.Contiguous();
        int c = x.Dim(-1), rows = ShapeUtil.RowCount(x.Shape);
        if (weight.Rank != 1 || weight.Dim(0) != c)
            throw new ArgumentException($"rms_norm: weight [{ShapeUtil.Format(weight.Shape)}] does not fit input [{ShapeUtil.Format(x.Shape)}] (need [{c}])");
        var y = Tensor.Uninitialized(x.ShapeArray.ToArray());
        var rstd = new float[rows];
        float[] xd = x.Data, yd = y.Data, wd = weight.Data; int xo = x.Offset, yo = y.Offset, wo = weight.Offset;
        RowParallel.For(rows, c * 3L, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                var xs = xd.AsSpan(xo + r * c, c); var ys = yd.AsSpan(yo + r * c, c);
                float rs = 1f / MathF.Sqrt(Elementwise.Dot(xs, xs) / c + eps);
                rstd[r] = rs;
                System.Numerics.Tensors.TensorPrimitives.Multiply(xs, rs, ys);
                System.Numerics.Tensors.TensorPrimitives.Multiply(ys, wd.AsSpan(wo, c), ys);
            }
        });
        if (!Autograd.ShouldRecord(x, weight)) return y;
        y.SetBackward("rms_norm", [x, weight], () =>
        {
            var g = y.Grad!;
            float[] gd = g.Data; int go = g.Offset;
            if (x.RequiresGrad)
            {
                x.GradSpan();
                float[] dxd = x.Grad!.Data; int dxo = x.Grad.Offset;
                RowParallel.For(rows, c * 4L, (r0, r1) =>
                {
                    Span<float> gw = c <= 4096 ? stackalloc float[c] : new float[c];
                    for (int r = r0; r < r1; r++)
                    {
                        var xs = xd.AsSpan(xo + r * c, c); var gs = gd.AsSpan(go + r * c, c); var dx = dxd.AsSpan(dxo + r * c, c);
                        System.Numerics.Tensors.TensorPrimitives.Multiply(gs, wd.AsSpan(wo, c), gw);
                        float rs = rstd[r], k = rs * rs * rs / c * Elementwise.Dot(gw, xs);
                        for (int i = 0; i < c; i++) dx[i] += rs * gw[i] - k * xs[i];
                    }
                });
            }
            if (weight.RequiresGrad)
            {
                var dw = weight.GradSpan();
                for (int r = 0; r < rows; r++)
                {
                    var xs = xd.AsSpan(xo + r * c, c); var gs = gd.AsSpan(go + r * c, c);
                    float rs = rstd[r];
                    for (int i = 0; i < c; i++) dw[i] += gs[i] * xs[i] * rs;
                }
            }
        });
        return y;
    }

    /// <summary>
    /// LayerNorm over the last axis (Ba et al. 2016): x̂ = (x − μ)·r, r = 1/√(var + ε) (biased variance), y = w ⊙ x̂ + b.
    /// Backward, with gw = g ⊙ w: dx = r·(gw − mean(gw) − x̂·mean(gw ⊙ x̂)); dw = Σ g ⊙ x̂; db = Σ g.
    /// </summary>
    public static Tensor LayerNorm(Tensor x, Tensor weight, Tensor? bias, float eps)
    {
        x = x.Contiguous(); weight = weight.Contiguous(); bias = bias?.Contiguous();
        int c = x.Dim(-1), rows = ShapeUtil.RowCount(x.Shape);
        if (weight.Rank != 1 || weight.Dim(0) != c || (bias is not null && (bias.Rank != 1 || bias.Dim(0) != c)))
            throw new ArgumentException($"layer_norm: weight [{ShapeUtil.Format(weight.Shape)}]{(bias is null ? "" : $" and bias [{ShapeUtil.Format(bias.Shape)}]")} do not fit input [{ShapeUtil.Format(x.Shape)}] (need [{c}])");
        var y = Tensor.Uninitialized(x.ShapeArray.ToArray());
        var xhat = Tensor.Uninitialized(x.ShapeArray.ToArray());
        var rstd = new float[rows];
        float[] xd = x.Data, yd = y.Data, hd = xhat.Data, wd = weight.Data, bd = bias?.Data ?? wd;
        int xo = x.Offset, yo = y.Offset, ho = xhat.Offset, wo = weight.Offset, bo = bias?.Offset ?? 0;
        bool hasBias = bias is not null;
        RowParallel.For(rows, c * 4L, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                var xs = xd.AsSpan(xo + r * c, c); var hs = hd.AsSpan(ho + r * c, c); var ys = yd.AsSpan(yo + r * c, c);
                float mean = Elementwise.Sum(xs) / c;
                System.Numerics.Tensors.TensorPrimitives.Subtract(xs, mean, hs);
                float rs = 1f / MathF.Sqrt(Elementwise.Dot(hs, hs) / c + eps);
                rstd[r] = rs;
                System.Numerics.Tensors.TensorPrimitives.Multiply(hs, rs, hs);
                System.Numerics.Tensors.TensorPrimitives.Multiply(hs, wd.AsSpan(wo, c), ys);
                if (hasBias) System.Numerics.Tensors.TensorPrimitives.Add(ys, bd.AsSpan(bo, c), ys);
            }
        });
        if (!Autograd.ShouldRecord(x, weight, bias)) return y;
        y.SetBackward("layer_norm", bias is null ? [x, weight] : [x, weight, bias], () =>
        {
            var g = y.Grad!;
            float[] gd = g.Data; int go = g.Offset;
            if (x.RequiresGrad)
            {
                x.GradSpan();
                float[] dxd = x.Grad!.Data; int dxo = x.Grad.Offset;
                RowParallel.For(rows, c * 5L, (r0, r1) =>
                {
                    Span<float> gw = c <= 4096 ? stackalloc float[c] : new float[c];
                    for (int r = r0; r < r1; r++)
                    {
                        var hs = hd.AsSpan(ho + r * c, c); var gs = gd.AsSpan(go + r * c, c); var dx = dxd.AsSpan(dxo + r * c, c);
                        System.Numerics.Tensors.TensorPrimitives.Multiply(gs, wd.AsSpan(wo, c), gw);
                        float meanGw = Elementwise.Sum(gw) / c, meanGwX = Elementwise.Dot(gw, hs) / c, rs = rstd[r];
                        for (int i = 0; i < c; i++) dx[i] += rs * (gw[i] - meanGw - hs[i] * meanGwX);
                    }
                });
            }
            if (weight.RequiresGrad)
            {
                var dw = weight.GradSpan();
                for (int r = 0; r < rows; r++)
                {
                    var hs = hd.AsSpan(ho + r * c, c); var gs = gd.AsSpan(go + r * c, c);
                    for (int i = 0; i < c; i++) dw[i] += gs[i] * hs[i];
                }
            }
            if (bias is not null && bias.RequiresGrad)
            {
                var db = bias.GradSpan();
                for (int r = 0; r < rows; r++) Elementwise.AddInto(db, gd.AsSpan(go + r * c, c));
            }
        });
        return y;
    }
}
