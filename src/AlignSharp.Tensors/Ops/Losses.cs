using AlignSharp.Tensors.Kernels;

namespace AlignSharp.Tensors;

public static partial class Ops
{
    /// <summary>The label value that marks a position as excluded from the loss (PyTorch's and TRL's convention).</summary>
    public const int IgnoreIndex = -100;

    /// <summary>
    /// Cross-entropy of logits [..., V] against integer targets, averaged over targets that are not
    /// <paramref name="ignoreIndex"/> (0 when every target is ignored). Fused: the forward keeps only each
    /// row's log-sum-exp; the backward is dx = (softmax(x) − onehot(t))·g/count.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, ReadOnlySpan<int> targets, int ignoreIndex = IgnoreIndex)
    {
        var (x, rows, v, labels) = CheckLabels("cross_entropy", logits, targets, ignoreIndex);
        var lse = new float[rows];
        int count = 0;
        for (int r = 0; r < rows; r++) if (labels[r] != ignoreIndex) count++;
        float[] xd = x.Data; int xo = x.Offset;
        var rowLoss = new float[rows];
        RowParallel.For(rows, v * 2L, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                if (labels[r] == ignoreIndex) continue;
                var xs = xd.AsSpan(xo + r * v, v);
                lse[r] = SoftmaxKernel.LogSumExp(xs);
                rowLoss[r] = lse[r] - xs[labels[r]];
            }
        });
        float total = 0f;
        for (int r = 0; r < rows; r++) total += rowLoss[r];
        var y = Tensor.Scalar(count == 0 ? 0f : total / count);
        if (Autograd.ShouldRecord(x))
            y.SetBackward("cross_entropy", [x], () =>
            {
                if (count == 0) return;
                float scale = y.Grad!.Span[0] / count;
                x.GradSpan();
                float[] dxd = x.Grad!.Data; int dxo = x.Grad.Offset;
                RowParallel.For(rows, v * 2L, (r0, r1) =>
                {
                    for (int r = r0; r < r1; r++)
                    {
                        if (labels[r] == ignoreIndex) continue;
                        var xs = xd.AsSpan(xo + r * v, v); var dx = dxd.AsSpan(dxo + r * v, v);
                        SoftmaxKernel.AddScaledSoftmax(xs, lse[r], scale, dx);
                        dx[labels[r]] -= scale;
                    }
                });
            });
        return y;
    }

    /// <summary>
    /// Per-token log-probability of the given labels: log_softmax(logits)[..., label] → [...], and 0 where the
    /// label is <paramref name="ignoreIndex"/>. The quantity every preference loss sums over completion tokens.
    /// Backward: dx = g·(onehot(label) − softmax(x)).
    /// </summary>
    public static Tensor TokenLogProbs(Tensor logits, ReadOnlySpan<int> labels, int ignoreIndex = IgnoreIndex)
    {
        var (x, rows, v, ids) = CheckLabels("token_logprobs", logits, labels, ignoreIndex);
        var y = Tensor.Zeros(x.ShapeArray[..^1]);
        var lse = new float[rows];
        float[] xd = x.Data, yd = y.Data; int xo = x.Offset, yo = y.Offset;
        RowParallel.For(rows, v * 2L, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                if (ids[r] == ignoreIndex) continue;
                var xs = xd.AsSpan(xo + r * v, v);
                lse[r] = SoftmaxKernel.LogSumExp(xs);
                yd[yo + r] = xs[ids[r]] - lse[r];
            }
        });
        if (Autograd.ShouldRecord(x))
            y.SetBackward("token_logprobs", [x], () =>
            {
                x.GradSpan();
                float[] gd = y.Grad!.Data, dxd = x.Grad!.Data; int go = y.Grad.Offset, dxo = x.Grad.Offset;
                RowParallel.For(rows, v * 2L, (r0, r1) =>
                {
                    for (int r = r0; r < r1; r++)
                    {
                        float g = gd[go + r];
                        if (ids[r] == ignoreIndex || g == 0f) continue;
                        var xs = xd.AsSpan(xo + r * v, v); var dx = dxd.AsSpan(dxo + r * v, v);
                        SoftmaxKernel.AddScaledSoftmax(xs, lse[r], -g, dx);
                        dx[ids[r]] += g;
                    }
                });
            });
        return y;
    }

    private static (Tensor X, int Rows, int V, int[] Labels) CheckLabels(string op, Tensor logits, ReadOnlySpan<int> labels, int ignoreIndex)
    {
        var x = logits.Contiguous();
        if (x.Rank < 1) throw new ArgumentException($"{op}: logits must be [..., V], got a scalar");
        int v = x.Dim(-1), rows = ShapeUtil.RowCount(x.Shape);
        if (labels.Length != rows)
            throw new ArgumentException($"{op}: {labels.Length} labels given for logits [{ShapeUtil.Format(x.Shape)}] ({rows} rows)");
        var ids = labels.ToArray();
        for (int r = 0; r < rows; r++)
            if (ids[r] != ignoreIndex && (uint)ids[r] >= (uint)v)
                throw new ArgumentOutOfRangeException(nameof(labels), $"{op}: label {ids[r]} at position {r} is outside the vocabulary [0, {v}) and is not the ignore index {ignoreIndex}");
        return (x, rows, v, ids);
    }
}
