using AlignSharp.Tensors;

namespace AlignSharp.Tensors.Tests;

/// <summary>The worker pool: per-thread pool scopes, and results that do not depend on the pool's size.</summary>
public class WorkerPoolTests
{
    [Fact]
    public void Use_scopes_nest_and_apply_to_the_calling_thread_only()
    {
        using var one = new WorkerPool(1);
        using var three = new WorkerPool(3);
        Assert.Same(WorkerPool.Default, WorkerPool.Current);
        using (WorkerPool.Use(one))
        {
            Assert.Same(one, WorkerPool.Current);
            WorkerPool? seenElsewhere = null;
            var other = new Thread(() => seenElsewhere = WorkerPool.Current);
            other.Start(); other.Join();
            Assert.Same(WorkerPool.Default, seenElsewhere);
            var inner = WorkerPool.Use(three);
            Assert.Same(three, WorkerPool.Current);
            inner.Dispose();
            inner.Dispose(); // a second dispose changes nothing
            Assert.Same(one, WorkerPool.Current);
        }
        Assert.Same(WorkerPool.Default, WorkerPool.Current);
    }

    [Fact]
    public void Ops_give_bitwise_identical_results_for_any_pool_size()
    {
        // Big enough that every op takes its parallel path (the GEMMs and row-wise kernels split above their thresholds).
        float[] Run(int threads)
        {
            using var pool = new WorkerPool(threads);
            using var scope = WorkerPool.Use(pool);
            var rng = new Rng(4);
            var x = Tensor.Parameter(Tensor.Randn(rng, 1f, 2, 128, 192));
            var w = Tensor.Parameter(Tensor.Randn(rng, 0.1f, 192, 192));
            var norm = Tensor.Parameter(Tensor.Uniform(rng, 0.5f, 1.5f, 192));
            var q = Tensor.Parameter(Tensor.Randn(rng, 1f, 2, 64, 4, 24));
            var kv = Tensor.Parameter(Tensor.Randn(rng, 1f, 2, 64, 2, 24));
            using (new TensorScope())
            {
                var h = Ops.Gelu(Ops.Linear(Ops.RmsNorm(x, norm, 1e-6f), w));
                var logits = h.Reshape(256, 192);
                var loss = Ops.CrossEntropy(logits, Enumerable.Range(0, 256).Select(i => i * 7 % 192).ToArray())
                         + Ops.Mean(Ops.Square(Ops.ScaledDotProductAttention(q, kv, kv, causal: true)))
                         + Ops.Mean(Ops.Softmax(h));
                loss.Backward();
            }
            return [.. x.Grad!.ToArray(), .. w.Grad!.ToArray(), .. norm.Grad!.ToArray(), .. q.Grad!.ToArray(), .. kv.Grad!.ToArray()];
        }
        var serial = Run(1);
        foreach (int threads in new[] { 2, 3, 5 })
            Assert.True(serial.AsSpan().SequenceEqual(Run(threads)), $"1 and {threads} threads give different gradients");
    }
}
