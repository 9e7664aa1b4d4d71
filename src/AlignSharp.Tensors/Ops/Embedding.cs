namespace AlignSharp.Tensors;

public static partial class Ops
{
    /// <summary>
    /// Embedding lookup: rows of weight [V, C] gathered by <paramref name="ids"/> → [...shape, C].
    /// Backward scatter-adds each output row's gradient into its id's row (in order, so repeated ids are deterministic).
    /// </summary>
    public static Tensor Embedding(Tensor weight, ReadOnlySpan<int> ids, params int[] shape)
    {
        weight = weight.Contiguous();
        if (weight.Rank != 2) throw new ArgumentException($"embedding: weight must be [V, C], got [{ShapeUtil.Format(weight.Shape)}]");
        if (shape.Length == 0) shape = [ids.Length];
        if (ShapeUtil.Count(shape) != ids.Length)
            throw new ArgumentException($"embedding: {ids.Length} ids do not fill shape [{ShapeUtil.Format(shape)}]");
        int v = weight.Dim(0), c = weight.Dim(1);
        var idArray = ids.ToArray();
        for (int i = 0; i < idArray.Length; i++)
            if ((uint)idArray[i] >= (uint)v)
                throw new ArgumentOutOfRangeException(nameof(ids), $"embedding: id {idArray[i]} at position {i} is outside the vocabulary [0, {v})");
        var y = Tensor.Uninitialized([.. shape, c]);
        var ws = weight.Span; var ys = y.Span;
        for (int i = 0; i < idArray.Length; i++) ws.Slice(idArray[i] * c, c).CopyTo(ys.Slice(i * c, c));
        if (Autograd.ShouldRecord(weight))
            y.SetBackward("embedding", [weight], () =>
            {
                var dw = weight.GradSpan(); var g = y.Grad!.Span;
                for (int i = 0; i < idArray.Length; i++) Kernels.Elementwise.AddInto(dw.Slice(idArray[i] * c, c), g.Slice(i * c, c));
            });
        return y;
    }
}
