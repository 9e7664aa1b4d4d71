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
}
