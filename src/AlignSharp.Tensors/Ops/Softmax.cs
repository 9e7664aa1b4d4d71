using AlignSharp.Tensors.Kernels;

namespace AlignSharp.Tensors;

public static partial class Ops
{
    /// <summary>Softmax over the last axis. Backward: dx = y ⊙ (g − Σ g⊙y).</summary>
    public static Tensor Softmax(Tensor x)
    {
        x = x.Contiguous();
        int n = x.Dim(-1), rows = ShapeUtil.RowCount(x.Shape);
        var y = Tensor.Uninitialized(x.ShapeArray.ToArray());
        float[] xd = x.Data, yd = y.Data; int xo = x.Offset, yo = y.Offset;
        RowParallel.For(rows, n * 4L, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++) SoftmaxKernel.Row(xd.AsSpan(xo + r * n, n), yd.AsSpan(yo + r * n, n));
        });
        if (Autograd.ShouldRecord(x))
            y.SetBackward("softmax", [x], () =>
            {
                var g = y.Grad!; x.GradSpan();
                float[] gd = g.Data, dxd = x.Grad!.Data; int go = g.Offset, dxo = x.Grad.Offset;
                RowParallel.For(rows, n * 4L, (r0, r1) =>
                {
                    for (int r = r0; r < r1; r++)
                    {
                        var ys = yd.AsSpan(yo + r * n, n); var gs = gd.AsSpan(go + r * n, n); var dx = dxd.AsSpan(dxo + r * n, n);
                        SoftmaxKernel.AddSoftmaxBackward(ys, gs, Elementwise.Dot(gs, ys), dx);
                    }
                });
            });
        return y;
    }

    /// <summary>Log-softmax over the last axis. Backward: dx = g − softmax(x)·Σ g.</summary>
    public static Tensor LogSoftmax(Tensor x)
    {
        x = x.Contiguous();
        int n = x.Dim(-1), rows = ShapeUtil.RowCount(x.Shape);
        var y = Tensor.Uninitialized(x.ShapeArray.ToArray());
        float[] xd = x.Data, yd = y.Data; int xo = x.Offset, yo = y.Offset;
        RowParallel.For(rows, n * 4L, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                var xs = xd.AsSpan(xo + r * n, n);
                float lse = SoftmaxKernel.LogSumExp(xs);
                System.Numerics.Tensors.TensorPrimitives.Subtract(xs, lse, yd.AsSpan(yo + r * n, n));
            }
        });
        if (Autograd.ShouldRecord(x))
            y.SetBackward("log_softmax", [x], () =>
            {
                var g = y.Grad!; x.GradSpan();
                float[] gd = g.Data, dxd = x.Grad!.Data; int go = g.Offset, dxo = x.Grad.Offset;
                RowParallel.For(rows, n * 4L, (r0, r1) =>
                {
                    for (int r = r0; r < r1; r++)
                    {
                        var ys = yd.AsSpan(yo + r * n, n); var gs = gd.AsSpan(go + r * n, n); var dx = dxd.AsSpan(dxo + r * n, n);
                        // log-softmax output ys = x − lse, so softmax = exp(ys) = exp(ys − 0).
                        Elementwise.AddInto(dx, gs);
                        SoftmaxKernel.AddScaledSoftmax(ys, 0f, -Elementwise.Sum(gs), dx);
                    }
                });
            });
        return y;
    }
}
