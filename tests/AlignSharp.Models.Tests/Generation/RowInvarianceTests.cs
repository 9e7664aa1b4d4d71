using AlignSharp.Tensors;
using AlignSharp.Tensors.Kernels;

namespace AlignSharp.Models.Tests.Generation;

/// <summary>
/// Under <see cref="Sgemm.RowInvariant"/> a row of x·Wᵀ is bitwise what the one-row product gives, for any number of rows
/// and any thread count: what lets a continuously batched sequence decode exactly as it does alone. (Outside the block
/// the small-M kernel reduces tiled rows in another order, so the rows differ in their last bits.)
/// </summary>
public class RowInvarianceTests
{
    [Theory]
    [InlineData(1, 7)]
    [InlineData(15, 5)]
    [InlineData(16, 37)]
    [InlineData(17, 64)]
    [InlineData(64, 33)]
    [InlineData(100, 130)]
    [InlineData(160, 64)]
    [InlineData(333, 70)]
    public void Each_row_of_a_batched_linear_equals_the_one_row_product(int k, int n)
    {
        var rng = new Rng(7);
        using var scope = new TensorScope();
        using var noGrad = Autograd.NoGrad();
        var w = Tensor.Randn(rng, 1f, n, k);
        var bias = Tensor.Randn(rng, 1f, n);
        foreach (int rows in new[] { 2, 3, 5, 16, 33 })
        {
            var x = Tensor.Randn(rng, 1f, rows, k);
            var alone = Enumerable.Range(0, rows).Select(r => Ops.Linear(Ops.Narrow(x, 0, r, 1), w, bias).ToArray()).ToArray();
            foreach (int threads in new[] { 1, 3 })
            {
                using var pool = new WorkerPool(threads);
                using var use = WorkerPool.Use(pool);
                float[] batched;
                using (Sgemm.RowInvariant()) batched = Ops.Linear(x, w, bias).ToArray();
                for (int r = 0; r < rows; r++)
                    Assert.Equal(Bits(alone[r]), Bits(batched[(r * n)..((r + 1) * n)]));
            }
        }
    }

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
