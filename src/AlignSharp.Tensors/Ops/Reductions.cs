using AlignSharp.Tensors.Kernels;

namespace AlignSharp.Tensors;

public static partial class Ops
{
    /// <summary>Sum of all elements → scalar; backward broadcasts g to every element.</summary>
    public static Tensor Sum(Tensor x)
    {
        x = x.Contiguous();
        var y = Tensor.Scalar(Elementwise.Sum(x.Span));
        if (Autograd.ShouldRecord(x))
            y.SetBackward("sum", [x], () =>
            {
                var dx = x.GradSpan();
                System.Numerics.Tensors.TensorPrimitives.Add(dx, y.Grad!.Span[0], dx);
            });
        return y;
    }

    /// <summary>Mean of all elements → scalar.</summary>
    public static Tensor Mean(Tensor x)
    {
        if (x.Length == 0) throw new ArgumentException("mean: the tensor is empty");
        return Scale(Sum(x), 1f / x.Length);
    }

    /// <summary>Sum over the last axis: [..., N] → [...].</summary>
    public static Tensor SumLastAxis(Tensor x)
    {
        x = x.Contiguous();
        if (x.Rank == 0) throw new ArgumentException("sum_last_axis: a scalar has no axis to reduce");
        int n = x.Dim(-1), rows = ShapeUtil.RowCount(x.Shape);
        var y = Tensor.Uninitialized(x.ShapeArray[..^1]);
        var xs = x.Span; var ys = y.Span;
        for (int r = 0; r < rows; r++) ys[r] = Elementwise.Sum(xs.Slice(r * n, n));
        if (Autograd.ShouldRecord(x))
            y.SetBackward("sum_last_axis", [x], () =>
            {
                var g = y.Grad!.Span; var dx = x.GradSpan();
                for (int r = 0; r < rows; r++)
                    for (int i = 0; i < n; i++) dx[r * n + i] += g[r];
            });
        return y;
    }

    /// <summary>Mean over the last axis: [..., N] → [...].</summary>
    public static Tensor MeanLastAxis(Tensor x) => Scale(SumLastAxis(x), 1f / x.Dim(-1));

    /// <summary>
    /// Σᵢ xᵢ·maskᵢ over the last axis: x [..., T], mask [..., T] (constant; 1 keeps, 0 drops) → [...].
    /// The sequence log-prob of the alignment losses: per-token log-probs summed over completion tokens.
    /// </summary>
    public static Tensor MaskedSum(Tensor x, Tensor mask) => MaskedReduce("masked_sum", x, mask, mean: false);

    /// <summary>Σᵢ xᵢ·maskᵢ / Σᵢ maskᵢ over the last axis (0 where the mask is empty).</summary>
    public static Tensor MaskedMean(Tensor x, Tensor mask) => MaskedReduce("masked_mean", x, mask, mean: true);

    private static Tensor MaskedReduce(string name, Tensor x, Tensor mask, bool mean)
    {
        x = x.Contiguous(); mask = mask.Contiguous();
        ShapeUtil.RequireSame(name, x, mask);
        if (x.Rank == 0) throw new ArgumentException($"{name}: a scalar has no axis to reduce");
        int n = x.Dim(-1), rows = ShapeUtil.RowCount(x.Shape);
        var y = Tensor.Uninitialized(x.ShapeArray[..^1]);
        var xs = x.Span; var ms = mask.Span; var ys = y.Span;
        var scale = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            float denominator = mean ? Elementwise.Sum(ms.Slice(r * n, n)) : 1f;
            scale[r] = denominator == 0f ? 0f : 1f / denominator;
            ys[r] = Elementwise.Dot(xs.Slice(r * n, n), ms.Slice(r * n, n)) * scale[r];
        }
        if (Autograd.ShouldRecord(x))
            y.SetBackward(name, [x], () =>
            {
                var g = y.Grad!.Span; var dx = x.GradSpan(); var m = mask.Span;
                for (int r = 0; r < rows; r++)
                    for (int i = 0; i < n; i++) dx[r * n + i] += g[r] * scale[r] * m[r * n + i];
            });
        return y;
    }
}

public sealed partial class Tensor
{
    public Tensor Sum() => Ops.Sum(this);
    public Tensor Mean() => Ops.Mean(this);
}
