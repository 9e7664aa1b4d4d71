using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AlignSharp.Tensors.Kernels;

public static unsafe partial class Sgemm
{
    [ThreadStatic] private static int _rowInvariantDepth;

    /// <summary>True inside a <see cref="RowInvariant"/> block on this thread.</summary>
    public static bool IsRowInvariant => _rowInvariantDepth != 0;

    /// <summary>
    /// Until the handle is disposed, every product on this thread computes each row of C exactly as a one-row product
    /// (m = 1, the GEMV path) would: row i of A·op(B) is bitwise the same whether A has 1 row or 16. Batched decoding
    /// needs this so that a sequence's tokens do not depend on which other sequences share its decode step. Outside the
    /// block the kernels are unchanged (their results, e.g. a batched rollout's, stay bitwise what they were).
    /// </summary>
    public static RowInvariantScope RowInvariant() => new(0);

    /// <summary>Handle of <see cref="RowInvariant"/>; disposing it ends the block.</summary>
    public readonly struct RowInvariantScope : IDisposable
    {
        internal RowInvariantScope(int _) => _rowInvariantDepth++;
        public void Dispose() => _rowInvariantDepth--;
    }

    /// <summary>
    /// C = op(A)·op(B) (m &gt; 1) with every row computed as <see cref="Gemv"/> computes a single row. For the Linear layout
    /// (A rows contiguous, B stored [n, k]) the output columns go in fixed chunks: a chunk of B's rows is read from memory
    /// once and stays in cache while every row of A is dotted with it (the weights are shared, as in a small-M GEMM),
    /// and each element is <see cref="Dot"/>'s sum — the same chain of operations as the one-row product.
    /// </summary>
    private static void RowInvariantMultiply(bool transA, bool transB, int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate, WorkerPool pool)
    {
        long work = (long)m * n * k;
        if (transA || !transB)
        {
            // Not the decoding layout: one GEMV per row (same per-row result, no weight sharing).
            for (int i = 0; i < m; i++)
            {
                float* x = transA ? a + i : a + (nint)i * lda;
                Gemv(x, transA ? lda : 1, b, ldb, !transB, k, n, c + (nint)i * ldc, 1, accumulate, (long)n * k >= GemvParallelThreshold && pool.Threads > 1 ? pool : null);
            }
            return;
        }
        // About 64 KiB of B per chunk (it stays in L2 while the rows of A read it), at least 4 and at most 64 rows.
        int chunk = Math.Clamp(16384 / Math.Max(1, k) / 2 * 2, 4, 64);
        int chunks = (n + chunk - 1) / chunk;
        void Chunk(int ch)
        {
            int j0 = ch * chunk, j1 = Math.Min(n, j0 + chunk);
            int i = 0;
            if (Path == Isa.V512 && k >= 16)
            {
                for (; i + 3 <= m; i += 3)
                {
                    int j = j0;
                    for (; j + 2 <= j1; j += 2)
                        Dot3x2(a + (nint)i * lda, a + (nint)(i + 1) * lda, a + (nint)(i + 2) * lda, b + (nint)j * ldb, b + (nint)(j + 1) * ldb, k,
                            c + (nint)i * ldc + j, c + (nint)(i + 1) * ldc + j, c + (nint)(i + 2) * ldc + j, accumulate);
                    for (; j < j1; j++)
                        for (int r = i; r < i + 3; r++) Put(c + (nint)r * ldc + j, Dot(a + (nint)r * lda, b + (nint)j * ldb, k), accumulate);
                }
                for (; i + 2 <= m; i += 2)
                {
                    int j = j0;
                    for (; j + 2 <= j1; j += 2)
                        Dot2x2(a + (nint)i * lda, a + (nint)(i + 1) * lda, b + (nint)j * ldb, b + (nint)(j + 1) * ldb, k,
                            c + (nint)i * ldc + j, c + (nint)(i + 1) * ldc + j, accumulate);
                    for (; j < j1; j++)
                    {
                        Put(c + (nint)i * ldc + j, Dot(a + (nint)i * lda, b + (nint)j * ldb, k), accumulate);
                        Put(c + (nint)(i + 1) * ldc + j, Dot(a + (nint)(i + 1) * lda, b + (nint)j * ldb, k), accumulate);
                    }
                }
            }
            for (; i < m; i++)
                for (int j = j0; j < j1; j++) Put(c + (nint)i * ldc + j, Dot(a + (nint)i * lda, b + (nint)j * ldb, k), accumulate);
        }
        if (chunks == 1 || work < GemvParallelThreshold || pool.Threads == 1) { for (int ch = 0; ch < chunks; ch++) Chunk(ch); return; }
        pool.For(chunks, Chunk);
    }

    /// <summary>As <see cref="GemvChunk"/> stores: the new value, or the new value plus the old one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* c, float value, bool accumulate) => *c = accumulate ? value + *c : value;

    /// <summary>
    /// Four <see cref="Dot"/>s at once (rows x0, x1 of A against rows y0, y1 of B) with exactly Dot's AVX-512 chain per
    /// element — four accumulators over 64-float steps, then 16-float steps into the first, the sum
    /// ((s0 + s1) + (s2 + s3)) reduced by Vector512.Sum, then the scalar tail — so each result equals Dot's bitwise,
    /// while every loaded vector feeds two FMAs instead of one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot2x2(float* x0, float* x1, float* y0, float* y1, int k, float* c0, float* c1, bool accumulate)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default; // x0·y0
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default; // x0·y1
        Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default; // x1·y0
        Vector512<float> e0 = default, e1 = default, e2 = default, e3 = default; // x1·y1
        int p = 0;
        for (; p + 64 <= k; p += 64)
        {
            var u0 = Vector512.Load(y0 + p); var v0 = Vector512.Load(y1 + p);
            var x = Vector512.Load(x0 + p); a0 = Vector512.FusedMultiplyAdd(x, u0, a0); b0 = Vector512.FusedMultiplyAdd(x, v0, b0);
            x = Vector512.Load(x1 + p); d0 = Vector512.FusedMultiplyAdd(x, u0, d0); e0 = Vector512.FusedMultiplyAdd(x, v0, e0);
            var u1 = Vector512.Load(y0 + p + 16); var v1 = Vector512.Load(y1 + p + 16);
            x = Vector512.Load(x0 + p + 16); a1 = Vector512.FusedMultiplyAdd(x, u1, a1); b1 = Vector512.FusedMultiplyAdd(x, v1, b1);
            x = Vector512.Load(x1 + p + 16); d1 = Vector512.FusedMultiplyAdd(x, u1, d1); e1 = Vector512.FusedMultiplyAdd(x, v1, e1);
            var u2 = Vector512.Load(y0 + p + 32); var v2 = Vector512.Load(y1 + p + 32);
            x = Vector512.Load(x0 + p + 32); a2 = Vector512.FusedMultiplyAdd(x, u2, a2); b2 = Vector512.FusedMultiplyAdd(x, v2, b2);
            x = Vector512.Load(x1 + p + 32); d2 = Vector512.FusedMultiplyAdd(x, u2, d2); e2 = Vector512.FusedMultiplyAdd(x, v2, e2);
            var u3 = Vector512.Load(y0 + p + 48); var v3 = Vector512.Load(y1 + p + 48);
            x = Vector512.Load(x0 + p + 48); a3 = Vector512.FusedMultiplyAdd(x, u3, a3); b3 = Vector512.FusedMultiplyAdd(x, v3, b3);
            x = Vector512.Load(x1 + p + 48); d3 = Vector512.FusedMultiplyAdd(x, u3, d3); e3 = Vector512.FusedMultiplyAdd(x, v3, e3);
        }
        for (; p + 16 <= k; p += 16)
        {
            var u = Vector512.Load(y0 + p); var v = Vector512.Load(y1 + p);
            var x = Vector512.Load(x0 + p); a0 = Vector512.FusedMultiplyAdd(x, u, a0); b0 = Vector512.FusedMultiplyAdd(x, v, b0);
            x = Vector512.Load(x1 + p); d0 = Vector512.FusedMultiplyAdd(x, u, d0); e0 = Vector512.FusedMultiplyAdd(x, v, e0);
        }
        float s00 = Vector512.Sum((a0 + a1) + (a2 + a3)), s01 = Vector512.Sum((b0 + b1) + (b2 + b3));
        float s10 = Vector512.Sum((d0 + d1) + (d2 + d3)), s11 = Vector512.Sum((e0 + e1) + (e2 + e3));
        for (; p < k; p++)
        {
            s00 = MathF.FusedMultiplyAdd(x0[p], y0[p], s00); s01 = MathF.FusedMultiplyAdd(x0[p], y1[p], s01);
            s10 = MathF.FusedMultiplyAdd(x1[p], y0[p], s10); s11 = MathF.FusedMultiplyAdd(x1[p], y1[p], s11);
        }
        Put(c0, s00, accumulate); Put(c0 + 1, s01, accumulate);
        Put(c1, s10, accumulate); Put(c1 + 1, s11, accumulate);
    }

    /// <summary>As <see cref="Dot2x2"/> for three rows of A against two rows of B (24 accumulators: 20 loads feed 24 FMAs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot3x2(float* x0, float* x1, float* x2, float* y0, float* y1, int k, float* c0, float* c1, float* c2, bool accumulate)
    {
        Vector512<float> s000 = default, s001 = default, s002 = default, s003 = default;
        Vector512<float> s010 = default, s011 = default, s012 = default, s013 = default;
        Vector512<float> s100 = default, s101 = default, s102 = default, s103 = default;
        Vector512<float> s110 = default, s111 = default, s112 = default, s113 = default;
        Vector512<float> s200 = default, s201 = default, s202 = default, s203 = default;
        Vector512<float> s210 = default, s211 = default, s212 = default, s213 = default;
        int p = 0;
        for (; p + 64 <= k; p += 64)
        {
            {
                var u = Vector512.Load(y0 + p + 0); var v = Vector512.Load(y1 + p + 0);
                var a0 = Vector512.Load(x0 + p + 0); s000 = Vector512.FusedMultiplyAdd(a0, u, s000); s010 = Vector512.FusedMultiplyAdd(a0, v, s010);
                var a1 = Vector512.Load(x1 + p + 0); s100 = Vector512.FusedMultiplyAdd(a1, u, s100); s110 = Vector512.FusedMultiplyAdd(a1, v, s110);
                var a2 = Vector512.Load(x2 + p + 0); s200 = Vector512.FusedMultiplyAdd(a2, u, s200); s210 = Vector512.FusedMultiplyAdd(a2, v, s210);
            }
            {
                var u = Vector512.Load(y0 + p + 16); var v = Vector512.Load(y1 + p + 16);
                var a0 = Vector512.Load(x0 + p + 16); s001 = Vector512.FusedMultiplyAdd(a0, u, s001); s011 = Vector512.FusedMultiplyAdd(a0, v, s011);
                var a1 = Vector512.Load(x1 + p + 16); s101 = Vector512.FusedMultiplyAdd(a1, u, s101); s111 = Vector512.FusedMultiplyAdd(a1, v, s111);
                var a2 = Vector512.Load(x2 + p + 16); s201 = Vector512.FusedMultiplyAdd(a2, u, s201); s211 = Vector512.FusedMultiplyAdd(a2, v, s211);
            }
            {
                var u = Vector512.Load(y0 + p + 32); var v = Vector512.Load(y1 + p + 32);
                var a0 = Vector512.Load(x0 + p + 32); s002 = Vector512.FusedMultiplyAdd(a0, u, s002); s012 = Vector512.FusedMultiplyAdd(a0, v, s012);
                var a1 = Vector512.Load(x1 + p + 32); s102 = Vector512.FusedMultiplyAdd(a1, u, s102); s112 = Vector512.FusedMultiplyAdd(a1, v, s112);
                var a2 = Vector512.Load(x2 + p + 32); s202 = Vector512.FusedMultiplyAdd(a2, u, s202); s212 = Vector512.FusedMultiplyAdd(a2, v, s212);
            }
            {
                var u = Vector512.Load(y0 + p + 48); var v = Vector512.Load(y1 + p + 48);
                var a0 = Vector512.Load(x0 + p + 48); s003 = Vector512.FusedMultiplyAdd(a0, u, s003); s013 = Vector512.FusedMultiplyAdd(a0, v, s013);
                var a1 = Vector512.Load(x1 + p + 48); s103 = Vector512.FusedMultiplyAdd(a1, u, s103); s113 = Vector512.FusedMultiplyAdd(a1, v, s113);
                var a2 = Vector512.Load(x2 + p + 48); s203 = Vector512.FusedMultiplyAdd(a2, u, s203); s213 = Vector512.FusedMultiplyAdd(a2, v, s213);
            }
        }
        for (; p + 16 <= k; p += 16)
        {
            var u = Vector512.Load(y0 + p); var v = Vector512.Load(y1 + p);
            var a0 = Vector512.Load(x0 + p); s000 = Vector512.FusedMultiplyAdd(a0, u, s000); s010 = Vector512.FusedMultiplyAdd(a0, v, s010);
            var a1 = Vector512.Load(x1 + p); s100 = Vector512.FusedMultiplyAdd(a1, u, s100); s110 = Vector512.FusedMultiplyAdd(a1, v, s110);
            var a2 = Vector512.Load(x2 + p); s200 = Vector512.FusedMultiplyAdd(a2, u, s200); s210 = Vector512.FusedMultiplyAdd(a2, v, s210);
        }
        float t00 = Vector512.Sum((s000 + s001) + (s002 + s003));
        float t01 = Vector512.Sum((s010 + s011) + (s012 + s013));
        float t10 = Vector512.Sum((s100 + s101) + (s102 + s103));
        float t11 = Vector512.Sum((s110 + s111) + (s112 + s113));
        float t20 = Vector512.Sum((s200 + s201) + (s202 + s203));
        float t21 = Vector512.Sum((s210 + s211) + (s212 + s213));
        for (; p < k; p++)
        {
            t00 = MathF.FusedMultiplyAdd(x0[p], y0[p], t00); t01 = MathF.FusedMultiplyAdd(x0[p], y1[p], t01);
            t10 = MathF.FusedMultiplyAdd(x1[p], y0[p], t10); t11 = MathF.FusedMultiplyAdd(x1[p], y1[p], t11);
            t20 = MathF.FusedMultiplyAdd(x2[p], y0[p], t20); t21 = MathF.FusedMultiplyAdd(x2[p], y1[p], t21);
        }
        Put(c0, t00, accumulate); Put(c0 + 1, t01, accumulate);
        Put(c1, t10, accumulate); Put(c1 + 1, t11, accumulate);
        Put(c2, t20, accumulate); Put(c2 + 1, t21, accumulate);
    }
}
