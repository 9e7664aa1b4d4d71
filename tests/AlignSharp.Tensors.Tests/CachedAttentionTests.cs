using AlignSharp.Tensors;

namespace AlignSharp.Tensors.Tests;

public class CachedAttentionTests
{
    [Theory]
    [InlineData(1, 9, 4, 2, 16, 1)]
    [InlineData(3, 20, 6, 3, 8, 4)]
    [InlineData(2, 70, 2, 1, 32, 5)]
    public void Matches_full_attention_on_the_last_queries(int b, int t, int h, int kvh, int d, int newTokens)
    {
        var rng = new Rng(9);
        var q = Tensor.Randn(rng, 1f, b, t, h, d);
        var k = Tensor.Randn(rng, 1f, b, t, kvh, d);
        var v = Tensor.Randn(rng, 1f, b, t, kvh, d);
        var mask = Tensor.Ones(b, t);
        if (b > 1) mask.Span[t] = 0f; // batch row 1 is left-padded by one position
        var full = Ops.ScaledDotProductAttention(q, k, v, mask).ToArray();

        int capacity = t + 7;
        var kc = Tensor.Zeros(b, capacity, kvh, d); var vc = Tensor.Zeros(b, capacity, kvh, d);
        for (int bi = 0; bi < b; bi++)
        {
            k.Span.Slice(bi * t * kvh * d, t * kvh * d).CopyTo(kc.Span.Slice(bi * capacity * kvh * d));
            v.Span.Slice(bi * t * kvh * d, t * kvh * d).CopyTo(vc.Span.Slice(bi * capacity * kvh * d));
        }
        var qNew = Ops.Narrow(q, 1, t - newTokens, newTokens);
        var cached = Ops.CachedAttention(qNew, kc, vc, t, mask).ToArray();
        int row = h * d;
        for (int bi = 0; bi < b; bi++)
            for (int i = 0; i < newTokens * row; i++)
                Assert.Equal(full[(bi * t + t - newTokens) * row + i], cached[bi * newTokens * row + i], 5);
    }
}
