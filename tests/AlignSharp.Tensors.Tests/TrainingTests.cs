using AlignSharp.Tensors;

namespace AlignSharp.Tensors.Tests;

/// <summary>Tests that count the process-wide <see cref="BufferPool"/> run alone (xunit runs this collection after the parallel ones).</summary>
[CollectionDefinition(nameof(BufferPoolCounting), DisableParallelization = true)]
public sealed class BufferPoolCounting;

/// <summary>End-to-end checks of the engine as a trainer uses it: fitting, memory reuse, determinism.</summary>
[Collection(nameof(BufferPoolCounting))]
public class TrainingTests
{
    /// <summary>A two-layer GELU MLP regressing y = sin(3x₀) + x₁², trained with plain Adam.</summary>
    private sealed class Mlp
    {
        public readonly Tensor W1, B1, W2, B2;
        private readonly Tensor[] _m, _v;
        private int _step;

        public Mlp(Rng rng, int hidden)
        {
            W1 = Tensor.Parameter(Tensor.Randn(rng, 0.5f, hidden, 2));
            B1 = Tensor.Parameter(Tensor.Zeros(hidden));
            W2 = Tensor.Parameter(Tensor.Randn(rng, 1f / MathF.Sqrt(hidden), 1, hidden));
            B2 = Tensor.Parameter(Tensor.Zeros(1));
            _m = Parameters.Select(p => Tensor.Parameter(Tensor.Zeros(p.ShapeArray))).ToArray();
            _v = Parameters.Select(p => Tensor.Parameter(Tensor.Zeros(p.ShapeArray))).ToArray();
        }

        public Tensor[] Parameters => [W1, B1, W2, B2];

        public Tensor Loss(Tensor x, Tensor y) => Ops.Mean(Ops.Square(Ops.Linear(Ops.Gelu(Ops.Linear(x, W1, B1)), W2, B2) - y));

        public void AdamStep(float lr)
        {
            _step++;
            const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
            float c1 = 1 - MathF.Pow(b1, _step), c2 = 1 - MathF.Pow(b2, _step);
            var ps = Parameters;
            for (int n = 0; n < ps.Length; n++)
            {
                var p = ps[n].Span; var g = ps[n].Grad!.Span; var m = _m[n].Span; var v = _v[n].Span;
                for (int i = 0; i < p.Length; i++)
                {
                    m[i] = b1 * m[i] + (1 - b1) * g[i];
                    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                    p[i] -= lr * (m[i] / c1) / (MathF.Sqrt(v[i] / c2) + eps);
                }
                ps[n].ZeroGrad();
            }
        }
    }

    private static (Tensor X, Tensor Y) Batch(Rng rng, int n)
    {
        var x = Tensor.Uniform(rng, -1f, 1f, n, 2);
        var y = Tensor.Zeros(n, 1);
        var xs = x.Span; var ys = y.Span;
        for (int i = 0; i < n; i++) ys[i] = MathF.Sin(3 * xs[2 * i]) + xs[2 * i + 1] * xs[2 * i + 1];
        return (x, y);
    }

    [Fact]
    public void Small_mlp_fits_a_function()
    {
        var rng = new Rng(3);
        var mlp = new Mlp(rng, 64);
        float first = 0, last = 0;
        for (int step = 0; step < 600; step++)
        {
            using var scope = new TensorScope();
            var (x, y) = Batch(rng, 64);
            var loss = mlp.Loss(x, y);
            if (step == 0) first = loss.Item();
            last = loss.Item();
            loss.Backward();
            mlp.AdamStep(0.01f);
        }
        Assert.True(last < 0.01f && last < first / 20, $"loss went from {first} to {last}; expected below 0.01");
    }

    /// <remarks>
    /// Measured so that nothing can depend on scheduling: the steps run on a one-thread pool (every kernel item runs
    /// on the calling thread, so <see cref="GC.GetAllocatedBytesForCurrentThread"/> sees all of a step's allocations and
    /// nothing else), and the test sits in a collection that runs alone, so no other test rents from or returns to the
    /// process-wide <see cref="BufferPool"/> while it counts. (With the default pool, which items land on the calling
    /// thread varied from run to run, and a concurrent test moved PooledBytes; both made this test fail by chance.)
    /// </remarks>
    [Fact]
    public void Training_step_allocations_stay_flat()
    {
        using var pool = new WorkerPool(1);
        using var onOneThread = WorkerPool.Use(pool);
        var rng = new Rng(5);
        var mlp = new Mlp(rng, 256);
        var (x, y) = Batch(rng, 512);
        long Step()
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            using (new TensorScope())
            {
                mlp.Loss(x, y).Backward();
                mlp.AdamStep(1e-3f);
            }
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        for (int i = 0; i < 5; i++) Step();
        var early = Enumerable.Range(0, 10).Select(_ => Step()).ToArray();
        long pooled = BufferPool.PooledBytes;
        var late = Enumerable.Range(0, 10).Select(_ => Step()).ToArray();
        long max = early.Concat(late).Max();
        // The step's activations are 512×256 floats (512 KB) each; a buffer that is not handed back to the pool is
        // allocated afresh every step, so only small bookkeeping objects may be allocated per step.
        Assert.True(max < 64 * 1024, $"a step allocated up to {max} bytes on the managed heap");
        // On one thread a step of a fixed shape allocates the same objects every time, so a late step allocating more
        // than the leanest early one is growth. (Fewer is allowed: tier-1 code that the JIT swaps in while the test runs,
        // at a time that depends on a background thread, may allocate less, e.g. objects it places on the stack.)
        Assert.True(late.All(bytes => bytes <= early.Min()), $"per-step allocations grow: early [{string.Join(", ", early)}], late [{string.Join(", ", late)}]");
        Assert.Equal(pooled, BufferPool.PooledBytes);
    }

    [Fact]
    public void Same_seed_and_threads_give_bitwise_identical_training()
    {
        float[] Train()
        {
            var rng = new Rng(11);
            var mlp = new Mlp(rng, 64);
            for (int step = 0; step < 20; step++)
            {
                using var scope = new TensorScope();
                var (x, y) = Batch(rng, 128);
                mlp.Loss(x, y).Backward();
                mlp.AdamStep(0.01f);
            }
            return mlp.Parameters.SelectMany(p => p.ToArray()).ToArray();
        }
        Assert.Equal(Train(), Train());
    }

    [Fact]
    public void Attention_block_is_deterministic_across_runs()
    {
        float[] Run()
        {
            var rng = new Rng(2);
            var q = Tensor.Parameter(Tensor.Randn(rng, 1f, 2, 33, 4, 16));
            var k = Tensor.Parameter(Tensor.Randn(rng, 1f, 2, 33, 2, 16));
            var v = Tensor.Parameter(Tensor.Randn(rng, 1f, 2, 33, 2, 16));
            using (new TensorScope())
                Ops.Sum(Ops.Square(Ops.ScaledDotProductAttention(q, k, v))).Backward();
            return [.. q.Grad!.ToArray(), .. k.Grad!.ToArray(), .. v.Grad!.ToArray()];
        }
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void Scope_returns_buffers_and_keep_survives()
    {
        Tensor kept;
        Tensor dropped;
        using (var scope = new TensorScope())
        {
            dropped = Tensor.Ones(4, 4);
            kept = scope.Keep(Ops.Scale(Tensor.Ones(4, 4), 2f));
        }
        Assert.Equal(2f, kept.ToArray()[5]);
        var e = Assert.Throws<ObjectDisposedException>(() => dropped.ToArray());
        Assert.Contains("scope", e.Message);
    }

    [Fact]
    public void No_grad_records_nothing_and_detach_cuts_history()
    {
        var w = Tensor.Parameter(Tensor.Ones(3));
        using (Autograd.NoGrad())
        {
            var y = Ops.Square(w);
            Assert.False(y.RequiresGrad);
        }
        var d = Ops.Square(w).Detach();
        Assert.False(d.RequiresGrad);
        var loss = Ops.Sum(Ops.Mul(Ops.Square(w), d));
        loss.Backward();
        // d/dw Σ w²·d = 2w·d = 2 (d held constant at 1)
        Assert.Equal([2f, 2f, 2f], w.Grad!.ToArray());
    }

    [Fact]
    public void Gradients_accumulate_until_zeroed()
    {
        var w = Tensor.Parameter(Tensor.Full(3f, 2));
        Ops.Sum(Ops.Square(w)).Backward();
        Ops.Sum(Ops.Square(w)).Backward();
        Assert.Equal([12f, 12f], w.Grad!.ToArray());
        w.ZeroGrad();
        Assert.Equal([0f, 0f], w.Grad!.ToArray());
    }
}
