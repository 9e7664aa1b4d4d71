using AlignSharp.Tensors;
using AlignSharp.Tensors.Kernels;

namespace AlignSharp.Tensors.Tests;

public sealed unsafe class SgemmTests : IDisposable
{
    private readonly WorkerPool _pool1 = new(1);
    private readonly WorkerPool _pool2 = new(2);

    public void Dispose()
    {
        _pool1.Dispose();
        _pool2.Dispose();
    }

    private static float[] Random(Random rng, int count)
    {
        var x = new float[Math.Max(1, count)];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    private sealed record Case(int M, int N, int K, bool TransA, bool TransB, bool Accumulate, int Lda, int Ldb, int Ldc)
    {
        public int ARows => TransA ? K : M;
        public int BRows => TransB ? N : K;
    }

    private static Case MakeCase(Random rng, int m, int n, int k)
    {
        bool tA = rng.Next(2) == 1, tB = rng.Next(2) == 1, acc = rng.Next(2) == 1;
        int Pad() => rng.Next(3) == 0 ? rng.Next(1, 9) : 0;
        return new Case(m, n, k, tA, tB, acc, (tA ? m : k) + Pad(), (tB ? k : n) + Pad(), n + Pad());
    }

    private static float[] Run(Case t, float[] a, float[] b, float[] c0, WorkerPool pool)
    {
        var c = (float[])c0.Clone();
        fixed (float* pa = a, pb = b, pc = c)
            Sgemm.Multiply(t.TransA, t.TransB, t.M, t.N, t.K, pa, t.Lda, pb, t.Ldb, pc, t.Ldc, t.Accumulate, pool);
        return c;
    }

    private static void CheckAgainstReference(Case t, float[] a, float[] b, float[] c0, float[] c)
    {
        // fp32 accumulation error grows roughly linearly with k for inputs in [-1, 1].
        double tol = 1e-5 * (t.K + 2);
        for (int i = 0; i < t.M; i++)
        {
            for (int j = 0; j < t.Ldc; j++)
            {
                int ci = i * t.Ldc + j;
                if (j >= t.N)
                {
                    Assert.True(c0[ci] == c[ci], $"{t}: padding column C[{i},{j}] was written");
                    continue;
                }
                double s = t.Accumulate ? c0[ci] : 0;
                for (int p = 0; p < t.K; p++)
                    s += (double)a[t.TransA ? p * t.Lda + i : i * t.Lda + p] * b[t.TransB ? j * t.Ldb + p : p * t.Ldb + j];
                double err = Math.Abs(s - c[ci]);
                Assert.True(err <= tol, $"{t}: C[{i},{j}] = {c[ci]}, expected {s} (err {err:E2} > {tol:E2})");
            }
        }
    }

    private void CheckShape(Random rng, int m, int n, int k)
    {
        var t = MakeCase(rng, m, n, k);
        var a = Random(rng, t.ARows * t.Lda);
        var b = Random(rng, t.BRows * t.Ldb);
        var c0 = Random(rng, t.M * t.Ldc);
        var c1 = Run(t, a, b, c0, _pool1);
        CheckAgainstReference(t, a, b, c0, c1);
        var c2 = Run(t, a, b, c0, _pool2);
        Assert.True(c1.AsSpan().SequenceEqual(c2), $"{t}: 2-thread result differs from 1-thread result");
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(1, 300, 257)]
    [InlineData(1, 1000, 600)]
    [InlineData(1, 5000, 64)]
    [InlineData(300, 1, 257)]
    [InlineData(600, 1, 1000)]
    [InlineData(8, 64, 64)]
    [InlineData(14, 32, 256)]
    [InlineData(15, 33, 257)]
    [InlineData(13, 31, 255)]
    [InlineData(56, 700, 300)]
    [InlineData(200, 300, 600)]
    [InlineData(70, 1030, 530)]
    [InlineData(463, 129, 513)]
    public void MatchesReference_Shapes(int m, int n, int k)
    {
        var rng = new Random(m * 7919 + n * 104729 + k);
        for (int rep = 0; rep < 4; rep++) CheckShape(rng, m, n, k);
    }

    [Fact]
    public void MatchesReference_RandomShapes()
    {
        var rng = new Random(12345);
        int[] edge = { 1, 2, 3, 5, 7, 13, 14, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 100, 129, 255, 256, 257, 300 };
        for (int i = 0; i < 150; i++)
        {
            int Pick() => rng.Next(3) == 0 ? rng.Next(1, 200) : edge[rng.Next(edge.Length)];
            CheckShape(rng, Pick(), Pick(), Pick());
        }
    }

    [Fact]
    public void AllTransposeCombinations_WithAccumulateAndLeadingDims()
    {
        var rng = new Random(7);
        foreach (bool tA in new[] { false, true })
        foreach (bool tB in new[] { false, true })
        foreach (bool acc in new[] { false, true })
        {
            int m = 37, n = 45, k = 290;
            var t = new Case(m, n, k, tA, tB, acc, (tA ? m : k) + 3, (tB ? k : n) + 5, n + 2);
            var a = Random(rng, t.ARows * t.Lda);
            var b = Random(rng, t.BRows * t.Ldb);
            var c0 = Random(rng, t.M * t.Ldc);
            CheckAgainstReference(t, a, b, c0, Run(t, a, b, c0, _pool2));
        }
    }

    [Fact]
    public void EmptyDimensions()
    {
        var c = new float[] { 1, 2, 3, 4, 5, 6 };
        var a = new float[] { 1 };
        var b = new float[] { 1 };
        fixed (float* pa = a, pb = b, pc = c)
        {
            Sgemm.Multiply(false, false, 0, 3, 4, pa, 4, pb, 3, pc, 3, false, _pool2);
            Sgemm.Multiply(false, false, 2, 0, 4, pa, 4, pb, 0, pc, 3, false, _pool2);
            Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, c);
            Sgemm.Multiply(false, false, 2, 3, 0, pa, 0, pb, 3, pc, 3, true, _pool2);
            Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, c);
            Sgemm.Multiply(false, false, 2, 3, 0, pa, 0, pb, 3, pc, 3, false, _pool2);
            Assert.Equal(new float[6], c);
        }
    }

    [Fact]
    public void Deterministic_AcrossThreadCountsAndRuns_Large()
    {
        var rng = new Random(99);
        using var pool3 = new WorkerPool(3);
        foreach (var (m, n, k) in new[] { (517, 389, 1100), (1, 4099, 777), (777, 1, 1030), (40, 2000, 300) })
        {
            var t = MakeCase(rng, m, n, k);
            var a = Random(rng, t.ARows * t.Lda);
            var b = Random(rng, t.BRows * t.Ldb);
            var c0 = Random(rng, t.M * t.Ldc);
            var c1 = Run(t, a, b, c0, _pool1);
            var c2 = Run(t, a, b, c0, _pool2);
            var c2Again = Run(t, a, b, c0, _pool2);
            var c3 = Run(t, a, b, c0, pool3);
            Assert.True(c1.AsSpan().SequenceEqual(c2), $"{t}: 1 vs 2 threads differ");
            Assert.True(c2.AsSpan().SequenceEqual(c2Again), $"{t}: two 2-thread runs differ");
            Assert.True(c1.AsSpan().SequenceEqual(c3), $"{t}: 1 vs 3 threads differ");
        }
    }

    [Fact]
    public void Large_MatchesReference()
    {
        var rng = new Random(3);
        var t = new Case(301, 523, 1000, false, true, false, 1000, 1000, 523);
        var a = Random(rng, t.ARows * t.Lda);
        var b = Random(rng, t.BRows * t.Ldb);
        var c0 = Random(rng, t.M * t.Ldc);
        CheckAgainstReference(t, a, b, c0, Run(t, a, b, c0, _pool2));
    }
}
