using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AlignSharp.Tensors.Kernels;

public static unsafe partial class Sgemm
{
    /// <summary>Up to this many rows of A, x·Wᵀ takes the small-M path (batched decoding, few-token prompts).</summary>
    private const int SmallM = 32;

    /// <summary>
    /// C = A·Bᵀ for a few rows of A (m ≤ <see cref="SmallM"/>), B stored [n, k] as Linear weights are: no packing.
    /// Each 4×4 block of C keeps 16 vector accumulators over k, reading 4 rows of A (cached: they are small) and 4
    /// rows of B, so every weight is read once per call, as in a GEMV, while doing m times the work with it.
    /// Columns are split in fixed blocks across threads; each C element's sum over k has a fixed order.
    /// </summary>
    private static void SmallMTransB(int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate, WorkerPool? pool)
    {
        const int Block = 32; // columns per work item
        int blocks = (n + Block - 1) / Block;
        void Columns(int blk)
        {
            // Column quads outer, row quads inner: the few rows of A stay in L1 while each group of 4 weight rows
            // is streamed once from memory and used for every row of A.
            int j0 = blk * Block, j1 = Math.Min(n, j0 + Block), rows4 = m / 4 * 4;
            int j = j0;
            for (; j + 4 <= j1; j += 4)
            {
                for (int i = 0; i < rows4; i += 4) Tile4x4(k, a + (nint)i * lda, lda, b + (nint)j * ldb, ldb, c + (nint)i * ldc + j, ldc, accumulate);
                for (int i = rows4; i < m; i++)
                    for (int jj = j; jj < j + 4; jj++) Store(c + (nint)i * ldc + jj, DotK(a + (nint)i * lda, b + (nint)jj * ldb, k), accumulate);
            }
            for (; j < j1; j++)
                for (int i = 0; i < m; i++) Store(c + (nint)i * ldc + j, DotK(a + (nint)i * lda, b + (nint)j * ldb, k), accumulate);
        }
        if (pool is null || blocks == 1) { for (int blk = 0; blk < blocks; blk++) Columns(blk); return; }
        pool.For(blocks, Columns);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, float value, bool accumulate) => *c = accumulate ? *c + value : value;

    /// <summary>Σₚ a[p]·b[p] for the elements outside whole 4×4 tiles (a fixed order: deterministic, though rounded differently from tiles).</summary>
    private static float DotK(float* a, float* b, int k)
    {
        int p = 0;
        float sum = 0f;
        if (Vector512.IsHardwareAccelerated && k >= 16)
        {
            var acc = Vector512<float>.Zero;
            for (; p + 16 <= k; p += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(a + p), Vector512.Load(b + p), acc);
            sum = Vector512.Sum(acc);
        }
        for (; p < k; p++) sum = MathF.FusedMultiplyAdd(a[p], b[p], sum);
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x4(int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        if (!Vector512.IsHardwareAccelerated || k < 16)
        {
            for (int r = 0; r < 4; r++)
                for (int j = 0; j < 4; j++) Store(c + (nint)r * ldc + j, DotK(a + (nint)r * lda, b + (nint)j * ldb, k), accumulate);
            return;
        }
        float* a0 = a, a1 = a + lda, a2 = a + 2 * (nint)lda, a3 = a + 3 * (nint)lda;
        float* b0 = b, b1 = b + ldb, b2 = b + 2 * (nint)ldb, b3 = b + 3 * (nint)ldb;
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        int p = 0;
        for (; p + 16 <= k; p += 16)
        {
            var w0 = Vector512.Load(b0 + p); var w1 = Vector512.Load(b1 + p); var w2 = Vector512.Load(b2 + p); var w3 = Vector512.Load(b3 + p);
            var x = Vector512.Load(a0 + p);
            c00 = Vector512.FusedMultiplyAdd(x, w0, c00); c01 = Vector512.FusedMultiplyAdd(x, w1, c01); c02 = Vector512.FusedMultiplyAdd(x, w2, c02); c03 = Vector512.FusedMultiplyAdd(x, w3, c03);
            x = Vector512.Load(a1 + p);
            c10 = Vector512.FusedMultiplyAdd(x, w0, c10); c11 = Vector512.FusedMultiplyAdd(x, w1, c11); c12 = Vector512.FusedMultiplyAdd(x, w2, c12); c13 = Vector512.FusedMultiplyAdd(x, w3, c13);
            x = Vector512.Load(a2 + p);
            c20 = Vector512.FusedMultiplyAdd(x, w0, c20); c21 = Vector512.FusedMultiplyAdd(x, w1, c21); c22 = Vector512.FusedMultiplyAdd(x, w2, c22); c23 = Vector512.FusedMultiplyAdd(x, w3, c23);
            x = Vector512.Load(a3 + p);
            c30 = Vector512.FusedMultiplyAdd(x, w0, c30); c31 = Vector512.FusedMultiplyAdd(x, w1, c31); c32 = Vector512.FusedMultiplyAdd(x, w2, c32); c33 = Vector512.FusedMultiplyAdd(x, w3, c33);
        }
        Span<float> sums = stackalloc float[16];
        Reduce4(c00, c01, c02, c03).CopyTo(sums);
        Reduce4(c10, c11, c12, c13).CopyTo(sums[4..]);
        Reduce4(c20, c21, c22, c23).CopyTo(sums[8..]);
        Reduce4(c30, c31, c32, c33).CopyTo(sums[12..]);
        for (; p < k; p++)
            for (int r = 0; r < 4; r++)
            {
                float av = (r == 0 ? a0 : r == 1 ? a1 : r == 2 ? a2 : a3)[p];
                sums[r * 4 + 0] = MathF.FusedMultiplyAdd(av, b0[p], sums[r * 4 + 0]);
                sums[r * 4 + 1] = MathF.FusedMultiplyAdd(av, b1[p], sums[r * 4 + 1]);
                sums[r * 4 + 2] = MathF.FusedMultiplyAdd(av, b2[p], sums[r * 4 + 2]);
                sums[r * 4 + 3] = MathF.FusedMultiplyAdd(av, b3[p], sums[r * 4 + 3]);
            }
        for (int r = 0; r < 4; r++)
            for (int j = 0; j < 4; j++) Store(c + (nint)r * ldc + j, sums[r * 4 + j], accumulate);
    }

    /// <summary>
    /// The lane sums of four vectors as one 4-lane vector: halve each twice (512 → 256 → 128 bits), then two rounds
    /// of pairwise horizontal adds — about half the shuffles of four separate full reductions.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Reduce4(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d)
    {
        static Vector128<float> Halve(Vector512<float> v)
        {
            var h = v.GetLower() + v.GetUpper();
            return h.GetLower() + h.GetUpper();
        }
        Vector128<float> x0 = Halve(a), x1 = Halve(b), x2 = Halve(c), x3 = Halve(d);
        if (System.Runtime.Intrinsics.X86.Sse3.IsSupported)
        {
            var s01 = System.Runtime.Intrinsics.X86.Sse3.HorizontalAdd(x0, x1);
            var s23 = System.Runtime.Intrinsics.X86.Sse3.HorizontalAdd(x2, x3);
            return System.Runtime.Intrinsics.X86.Sse3.HorizontalAdd(s01, s23);
        }
        return Vector128.Create(Vector128.Sum(x0), Vector128.Sum(x1), Vector128.Sum(x2), Vector128.Sum(x3));
    }
}
