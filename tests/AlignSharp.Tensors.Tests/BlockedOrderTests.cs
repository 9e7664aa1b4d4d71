using AlignSharp.Tensors.Kernels;

namespace AlignSharp.Tensors.Tests;

/// <summary>Sgemm.BlockedOrder: a row's result does not depend on how many rows, which padding or which step computed it.</summary>
public class BlockedOrderTests
{
    [Theory]
    [InlineData(64, 160)]
    [InlineData(384, 1024)]
    public void A_row_of_a_linear_is_the_same_for_any_number_of_rows(int k, int n)
    {
        var rng = new Rng(2);
        var x = Tensor.Randn(rng, 1f, 200, k);
        var w = Tensor.Randn(rng, 0.1f, n, k);
        using var _ = Sgemm.BlockedOrder();
        var all = Ops.Linear(x, w).ToArray();
        foreach (int m in new[] { 1, 3, 33, 64 })
        {
            var part = Ops.Linear(Ops.Narrow(x, 0, 0, m), w).ToArray();
            Assert.Equal(all.AsSpan(0, m * n).ToArray(), part);
        }
    }

    [Theory]
    [InlineData(4, 2, 16, 9, 3)]
    [InlineData(6, 6, 64, 70, 11)]
    public void Attention_rows_are_the_same_padded_unpadded_prefilled_or_decoded(int h, int kvh, int d, int t, int pad)
    {
        var rng = new Rng(5);
        var q = Tensor.Randn(rng, 1f, 1, t, h, d);
        var k = Tensor.Randn(rng, 1f, 1, t, kvh, d);
        var v = Tensor.Randn(rng, 1f, 1, t, kvh, d);
        // The same sequence left-padded by `pad` positions (masked), as a batched prefill lays it out.
        Tensor LeftPad(Tensor x) => Ops.Concat([Tensor.Randn(rng, 1f, 1, pad, x.Dim(2), d), x], 1);
        var mask = Tensor.Ones(1, pad + t);
        mask.Span[..pad].Clear();
        using var _ = Sgemm.BlockedOrder();
        var plain = Ops.ScaledDotProductAttention(q, k, v).ToArray();
        var padded = Ops.ScaledDotProductAttention(LeftPad(q), LeftPad(k), LeftPad(v), mask).ToArray();
        Assert.Equal(plain, padded.AsSpan(pad * h * d).ToArray());
        // The last query as a KV-cached decode step (one query row against the cache).
        using (Autograd.NoGrad())
        {
            var last = Ops.CachedAttention(Ops.Narrow(q, 1, t - 1, 1), k, v, t).ToArray();
            Assert.Equal(plain.AsSpan((t - 1) * h * d).ToArray(), last);
        }
    }
}
