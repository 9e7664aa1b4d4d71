using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AlignSharp.Tensors.Kernels;

/// <summary>
/// Single-precision GEMM: cache-blocked (Goto/BLIS loop order) with packed A and B panels and a
/// register-blocked FMA micro-kernel (AVX-512, AVX2+FMA, or a portable Vector128 fallback).
/// <para>
/// Determinism: the k dimension is never split across threads. Each C element is the FMA chain
/// over p in ascending order inside one k-block, and the k-blocks (whose bounds depend only on k)
/// are added to C in ascending order. Which thread computes a tile, and where a row or column falls
/// inside a micro-tile, does not change that sequence, so results are bitwise identical for any
/// thread count and any scheduling.
/// </para>
/// </summary>
public static unsafe partial class Sgemm
{
    private enum Isa { V512, V256, V128 }

    private static readonly Isa Path =
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? Isa.V512 :
        Vector256.IsHardwareAccelerated && Avx2.IsSupported && Fma.IsSupported ? Isa.V256 : Isa.V128;

    // Micro-tile MR x NR and cache blocks, per instruction set.
    // AVX-512: 14x32 uses 28 of the 32 zmm registers for accumulators, 2 for the B row and 1 for the
    //   broadcast A value: 28 FMAs per 16 loads, enough independent chains to cover FMA latency on two pipes.
    // KC: the B micro-panel (KC x NR) stays in L1 while the A micro-panels stream from L2
    //   (KC=256: 32 KiB B + 14 KiB A against a 48 KiB L1d).
    // MC: the packed A block (MC x KC) stays in L2 (448 x 256 x 4 B = 448 KiB of 1 MiB).
    // NC: the packed B panel (KC x NC) is shared by all threads and lives in L3.
    private static readonly int MR, NR, KC, MC, NC;

    // Below this many multiply-adds a call runs on the calling thread only.
    private const long ParallelThreshold = 1L << 21;

    static Sgemm()
    {
        switch (Path)
        {
            case Isa.V512: MR = 14; NR = 32; KC = 256; MC = 14 * 32; NC = 4096; break;
            case Isa.V256: MR = 6; NR = 16; KC = 256; MC = 6 * 24; NC = 4096; break;
            default: MR = 4; NR = 8; KC = 256; MC = 4 * 32; NC = 2048; break;
        }
    }

    /// C[m×n] = op(A)[m×k] · op(B)[k×n], plus the old C when accumulate is true. Row-major.
    /// transA: A is stored as [k×m] (op(A) = Aᵀ); otherwise [m×k]. lda = row stride of A as stored.
    /// transB: B is stored as [n×k] (op(B) = Bᵀ); otherwise [k×n]. ldb = row stride of B as stored.
    public static void Multiply(bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate, WorkerPool pool)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (m == 0 || n == 0) return;
        if (m > 1 && ldc < n) throw new ArgumentOutOfRangeException(nameof(ldc), $"ldc {ldc} < n {n}");
        if (k == 0)
        {
            if (!accumulate)
                for (int i = 0; i < m; i++) new Span<float>(c + (nint)i * ldc, n).Clear();
            return;
        }
        if (transA ? (k > 1 && lda < m) : (m > 1 && lda < k)) throw new ArgumentOutOfRangeException(nameof(lda), $"lda {lda} too small");
        if (transB ? (n > 1 && ldb < k) : (k > 1 && ldb < n)) throw new ArgumentOutOfRangeException(nameof(ldb), $"ldb {ldb} too small");

        // A matrix-vector product is bound by memory bandwidth, which a second thread raises, so it goes
        // parallel at a much smaller size than a compute-bound GEMM (decoding runs on such products).
        long work = (long)m * n * k;
        int threads = pool is null || work < ((m == 1 || n == 1) ? GemvParallelThreshold : ParallelThreshold) ? 1 : pool.Threads;

        if (_blockedOrderDepth != 0)
        {
            Blocked(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, threads > 1 ? pool : null);
            return;
        }
        if (m > 1 && _rowInvariantDepth != 0)
        {
            RowInvariantMultiply(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, pool ?? WorkerPool.Current);
            return;
        }
        if (m == 1)
        {
            // Row vector times op(B): x[p] = op(A)[0, p].
            Gemv(a, transA ? lda : 1, b, ldb, !transB, k, n, c, 1, accumulate, threads > 1 ? pool : null);
            return;
        }
        if (n == 1)
        {
            // op(A) times column vector: y[p] = op(B)[p, 0]; C is a column with stride ldc.
            Gemv(b, transB ? 1 : ldb, a, lda, transA, k, m, c, ldc, accumulate, threads > 1 ? pool : null);
            return;
        }
        if (!transA && transB && m <= SmallM)
        {
            SmallMTransB(m, n, k, a, lda, b, ldb, c, ldc, accumulate, work >= GemvParallelThreshold * 4 && pool is { Threads: > 1 } ? pool : null);
            return;
        }
        Blocked(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, threads > 1 ? pool : null);
    }

    // ---------------------------------------------------------------------------------------------
    // GEMV: out[j] = sum_p x[p] * M(p, j) for j < len. When rowsAlongK, M(p, j) = mat[p*ld + j]
    // (the output index is contiguous: axpy form); otherwise M(p, j) = mat[j*ld + p] (dot form).
    // Both keep the per-element summation order a function of k alone.

    private static void Gemv(float* x, int incx, float* mat, int ld, bool rowsAlongK, int k, int len,
        float* outp, int incOut, bool accumulate, WorkerPool? pool)
    {
        var buf = Buffers;
        if (incx != 1)
        {
            float* xs = buf.Vec(k);
            for (int p = 0; p < k; p++) xs[p] = x[(nint)p * incx];
            x = xs;
        }
        // Work in fixed chunks of the output so the split is independent of the thread count. The axpy form
        // keeps 256 columns in registers; the dot form takes narrower chunks so small outputs still balance.
        int Chunk = rowsAlongK ? 256 : 64;
        int chunks = (len + Chunk - 1) / Chunk;
        if (pool is null || chunks == 1)
        {
            for (int ch = 0; ch < chunks; ch++)
                GemvChunk(x, mat, ld, rowsAlongK, k, ch * Chunk, Math.Min(Chunk, len - ch * Chunk), outp, incOut, accumulate);
            return;
        }
        pool.For(chunks, ch =>
            GemvChunk(x, mat, ld, rowsAlongK, k, ch * Chunk, Math.Min(Chunk, len - ch * Chunk), outp, incOut, accumulate));
    }

    private static void GemvChunk(float* x, float* mat, int ld, bool rowsAlongK, int k, int j0, int cnt,
        float* outp, int incOut, bool accumulate)
    {
        float* tmp = stackalloc float[256];
        if (rowsAlongK) GemvAxpy(x, mat + j0, ld, k, cnt, tmp);
        else for (int j = 0; j < cnt; j++) tmp[j] = Dot(x, mat + (nint)(j0 + j) * ld, k);
        float* o = outp + (nint)j0 * incOut;
        if (accumulate) for (int j = 0; j < cnt; j++) o[(nint)j * incOut] = tmp[j] + o[(nint)j * incOut];
        else for (int j = 0; j < cnt; j++) o[(nint)j * incOut] = tmp[j];
    }

    // tmp[j] = sum_p x[p] * mat[p*ld + j], j < cnt <= 256, p ascending with one FMA per step.
    private static void GemvAxpy(float* x, float* mat, int ld, int k, int cnt, float* tmp)
    {
        int j = 0;
        if (Path == Isa.V512)
        {
            // A full 256-column chunk in one pass: each row of the matrix is read as 1 KiB contiguous.
            for (; j + 256 <= cnt; j += 256)
            {
                Vector512<float> s0 = default;
                Vector512<float> s1 = default;
                Vector512<float> s2 = default;
                Vector512<float> s3 = default;
                Vector512<float> s4 = default;
                Vector512<float> s5 = default;
                Vector512<float> s6 = default;
                Vector512<float> s7 = default;
                Vector512<float> s8 = default;
                Vector512<float> s9 = default;
                Vector512<float> s10 = default;
                Vector512<float> s11 = default;
                Vector512<float> s12 = default;
                Vector512<float> s13 = default;
                Vector512<float> s14 = default;
                Vector512<float> s15 = default;
                float* r = mat + j;
                for (int p = 0; p < k; p++, r += ld)
                {
                    var xp = Vector512.Create(x[p]);
                    s0 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(r + 0), s0);
                    s1 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(r + 16), s1);
                    s2 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(r + 32), s2);
                    s3 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(r + 48), s3);
                    s4 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(r + 64), s4);
                    s5 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(r + 80), s5);
                    s6 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(r + 96), s6);
                    s7 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(r + 112), s7);
                    s8 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(r + 128), s8);
                    s9 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(r + 144), s9);
                    s10 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(r + 160), s10);
                    s11 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(r + 176), s11);
                    s12 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(r + 192), s12);
                    s13 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(r + 208), s13);
                    s14 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(r + 224), s14);
                    s15 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(r + 240), s15);
                }
                s0.Store(tmp + j + 0);
                s1.Store(tmp + j + 16);
                s2.Store(tmp + j + 32);
                s3.Store(tmp + j + 48);
                s4.Store(tmp + j + 64);
                s5.Store(tmp + j + 80);
                s6.Store(tmp + j + 96);
                s7.Store(tmp + j + 112);
                s8.Store(tmp + j + 128);
                s9.Store(tmp + j + 144);
                s10.Store(tmp + j + 160);
                s11.Store(tmp + j + 176);
                s12.Store(tmp + j + 192);
                s13.Store(tmp + j + 208);
                s14.Store(tmp + j + 224);
                s15.Store(tmp + j + 240);
            }
            for (; j + 64 <= cnt; j += 64)
            {
                Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
                float* r = mat + j;
                for (int p = 0; p < k; p++, r += ld)
                {
                    var xp = Vector512.Create(x[p]);
                    s0 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(r), s0);
                    s1 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(r + 16), s1);
                    s2 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(r + 32), s2);
                    s3 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(r + 48), s3);
                }
                s0.Store(tmp + j); s1.Store(tmp + j + 16); s2.Store(tmp + j + 32); s3.Store(tmp + j + 48);
            }
            for (; j + 16 <= cnt; j += 16)
            {
                Vector512<float> s0 = default;
                float* r = mat + j;
                for (int p = 0; p < k; p++, r += ld) s0 = Vector512.FusedMultiplyAdd(Vector512.Create(x[p]), Vector512.Load(r), s0);
                s0.Store(tmp + j);
            }
        }
        else if (Vector.IsHardwareAccelerated)
        {
            int w = Vector<float>.Count;
            for (; j + 4 * w <= cnt; j += 4 * w)
            {
                Vector<float> s0 = default, s1 = default, s2 = default, s3 = default;
                float* r = mat + j;
                for (int p = 0; p < k; p++, r += ld)
                {
                    var xp = new Vector<float>(x[p]);
                    s0 = Vector.MultiplyAddEstimate(xp, Vector.Load(r), s0);
                    s1 = Vector.MultiplyAddEstimate(xp, Vector.Load(r + w), s1);
                    s2 = Vector.MultiplyAddEstimate(xp, Vector.Load(r + 2 * w), s2);
                    s3 = Vector.MultiplyAddEstimate(xp, Vector.Load(r + 3 * w), s3);
                }
                s0.Store(tmp + j); s1.Store(tmp + j + w); s2.Store(tmp + j + 2 * w); s3.Store(tmp + j + 3 * w);
            }
        }
        for (; j < cnt; j++)
        {
            float s = 0;
            float* r = mat + j;
            for (int p = 0; p < k; p++, r += ld) s = MathF.FusedMultiplyAdd(x[p], *r, s);
            tmp[j] = s;
        }
    }

    // sum_p x[p] * y[p] in a fixed order that depends only on k.
    private static float Dot(float* x, float* y, int k)
    {
        int p = 0;
        float s = 0;
        if (Path == Isa.V512 && k >= 16)
        {
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; p + 64 <= k; p += 64)
            {
                s0 = Vector512.FusedMultiplyAdd(Vector512.Load(x + p), Vector512.Load(y + p), s0);
                s1 = Vector512.FusedMultiplyAdd(Vector512.Load(x + p + 16), Vector512.Load(y + p + 16), s1);
                s2 = Vector512.FusedMultiplyAdd(Vector512.Load(x + p + 32), Vector512.Load(y + p + 32), s2);
                s3 = Vector512.FusedMultiplyAdd(Vector512.Load(x + p + 48), Vector512.Load(y + p + 48), s3);
            }
            for (; p + 16 <= k; p += 16)
                s0 = Vector512.FusedMultiplyAdd(Vector512.Load(x + p), Vector512.Load(y + p), s0);
            s = Vector512.Sum((s0 + s1) + (s2 + s3));
        }
        else if (Path != Isa.V512 && Vector.IsHardwareAccelerated && k >= Vector<float>.Count)
        {
            int w = Vector<float>.Count;
            Vector<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; p + 4 * w <= k; p += 4 * w)
            {
                s0 = Vector.MultiplyAddEstimate(Vector.Load(x + p), Vector.Load(y + p), s0);
                s1 = Vector.MultiplyAddEstimate(Vector.Load(x + p + w), Vector.Load(y + p + w), s1);
                s2 = Vector.MultiplyAddEstimate(Vector.Load(x + p + 2 * w), Vector.Load(y + p + 2 * w), s2);
                s3 = Vector.MultiplyAddEstimate(Vector.Load(x + p + 3 * w), Vector.Load(y + p + 3 * w), s3);
            }
            for (; p + w <= k; p += w)
                s0 = Vector.MultiplyAddEstimate(Vector.Load(x + p), Vector.Load(y + p), s0);
            s = Vector.Sum((s0 + s1) + (s2 + s3));
        }
        for (; p < k; p++) s = MathF.FusedMultiplyAdd(x[p], y[p], s);
        return s;
    }

    // ---------------------------------------------------------------------------------------------
    // Blocked GEMM.

    private sealed class Job
    {
        public bool TransA, TransB, DirectB;
        public int M, N, K, Lda, Ldb, Ldc;
        public float* A, B, C, PackedB;
        public int Jc, Nc, Pc, Kc;
        public bool Add;
        public int MBlocks, NSplit, MPanels, NPanels;
        public int PackBChunks;
    }

    private static void Blocked(bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate, WorkerPool? pool)
    {
        int mr = MR, nr = NR;
        int threads = pool?.Threads ?? 1;

        // Balanced k-blocks: the bounds depend on k only (see the determinism note above).
        int kBlocks = (k + KC - 1) / KC;
        int kcStd = (k + kBlocks - 1) / kBlocks;
        int nBlocks = (n + NC - 1) / NC;
        int ncStd = RoundUp((n + nBlocks - 1) / nBlocks, nr);

        // With few rows the B micro-panel is reused by few kernels, so packing it costs more than it
        // saves: read row-major B in place (only the ragged last panel is packed).
        bool directB = !transB && m <= 4 * mr;

        var buf = Buffers;
        float* packedB = buf.B((nint)kcStd * ncStd);
        var job = new Job
        {
            TransA = transA, TransB = transB, DirectB = directB, M = m, N = n, K = k,
            Lda = lda, Ldb = ldb, Ldc = ldc, A = a, B = b, C = c, PackedB = packedB,
        };
        Action<int> packBody = i => PackBItem(job, i);
        Action<int> computeBody = i => ComputeItem(job, i);

        int mPanels = (m + mr - 1) / mr;
        int mcPanels = MC / mr;
        for (int jc = 0; jc < n; jc += ncStd)
        {
            int nc = Math.Min(ncStd, n - jc);
            int nPanels = (nc + nr - 1) / nr;
            int mBlocks = (mPanels + mcPanels - 1) / mcPanels;
            int nSplit = 1;
            if (threads > 1)
            {
                // Give every thread the same amount of work: round the M blocks up to a multiple
                // of the thread count when there are enough rows, else also split the N panels.
                if (mBlocks % threads != 0 && mPanels >= 4 * threads) mBlocks = RoundUp(mBlocks, threads);
                mBlocks = Math.Min(mBlocks, mPanels);
                if (mBlocks % threads != 0)
                    nSplit = Math.Min(nPanels, Math.Max(threads / Gcd(mBlocks, threads), (threads + mBlocks - 1) / mBlocks));
            }
            job.Jc = jc; job.Nc = nc; job.MBlocks = mBlocks; job.NSplit = nSplit; job.MPanels = mPanels; job.NPanels = nPanels;
            for (int pc = 0; pc < k; pc += kcStd)
            {
                int kc = Math.Min(kcStd, k - pc);
                job.Pc = pc; job.Kc = kc; job.Add = accumulate || pc > 0;
                if (directB)
                {
                    if (nc % nr != 0) PackB(job, nPanels - 1, nPanels, packedB);
                }
                else
                {
                    int chunks = (nPanels + 3) / 4;
                    job.PackBChunks = chunks;
                    if (pool is null) PackBItem(job, -1); else pool.For(chunks, packBody);
                }
                int items = mBlocks * nSplit;
                if (pool is null || items == 1) for (int i = 0; i < items; i++) ComputeItem(job, i);
                else pool.For(items, computeBody);
            }
        }
    }


    // dst[c*dstStride + r] = rows[r][p + c] for r, c < 8: one 8x8 transpose (AVX).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* r0, float* r1, float* r2, float* r3, float* r4, float* r5, float* r6, float* r7,
        float* dst, nint dstStride)
    {
        var t0 = Avx.UnpackLow(Avx.LoadVector256(r0), Avx.LoadVector256(r1));
        var t1 = Avx.UnpackHigh(Avx.LoadVector256(r0), Avx.LoadVector256(r1));
        var t2 = Avx.UnpackLow(Avx.LoadVector256(r2), Avx.LoadVector256(r3));
        var t3 = Avx.UnpackHigh(Avx.LoadVector256(r2), Avx.LoadVector256(r3));
        var t4 = Avx.UnpackLow(Avx.LoadVector256(r4), Avx.LoadVector256(r5));
        var t5 = Avx.UnpackHigh(Avx.LoadVector256(r4), Avx.LoadVector256(r5));
        var t6 = Avx.UnpackLow(Avx.LoadVector256(r6), Avx.LoadVector256(r7));
        var t7 = Avx.UnpackHigh(Avx.LoadVector256(r6), Avx.LoadVector256(r7));
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + dstStride, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * dstStride, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * dstStride, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * dstStride, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * dstStride, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * dstStride, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * dstStride, Avx.Permute2x128(u3, u7, 0x31));
    }

    // Packs `width` (a multiple of 8, or 14) source rows r, each read at s + r*ld + p for p < kc, into
    // dst[p*dstW + r]. With width 14 the second group covers rows 8..15 (rows 14, 15 alias row 13)
    // and spills two floats into the next p's slots 0..1; it runs before the first group, which
    // rewrites them, and the caller leaves 2 floats of slack after the panel.
    private static int PackTransposed(float* s, nint ld, int width, int kc, float* dst, int dstW)
    {
        int p = 0;
        for (; p + 8 <= kc; p += 8)
        {
            for (int g = (width - 1) / 8 * 8; g >= 0; g -= 8)
            {
                float* r = s + g * ld + p;
                nint l1 = Math.Min(1, width - 1 - g) * ld, l2 = Math.Min(2, width - 1 - g) * ld, l3 = Math.Min(3, width - 1 - g) * ld;
                nint l4 = Math.Min(4, width - 1 - g) * ld, l5 = Math.Min(5, width - 1 - g) * ld, l6 = Math.Min(6, width - 1 - g) * ld;
                nint l7 = Math.Min(7, width - 1 - g) * ld;
                Transpose8x8(r, r + l1, r + l2, r + l3, r + l4, r + l5, r + l6, r + l7, dst + (nint)p * dstW + g, dstW);
            }
        }
        return p;
    }

    private static int RoundUp(int x, int r) => (x + r - 1) / r * r;
    private static int Gcd(int x, int y) { while (y != 0) (x, y) = (y, x % y); return x; }

    private static void PackBItem(Job job, int item)
    {
        if (item < 0) PackB(job, 0, job.NPanels, job.PackedB);
        else PackB(job, item * 4, Math.Min(job.NPanels, item * 4 + 4), job.PackedB);
    }

    // Packs op(B)[pc..pc+kc, jc + panel*NR ..] for panels [p0, p1) into dst: each panel is kc rows of
    // NR floats (zero-padded past n), panel i at dst + i*kc*NR. In direct mode the ragged panel goes to dst.
    private static void PackB(Job job, int p0, int p1, float* dst)
    {
        int nr = NR, kc = job.Kc;
        for (int panel = p0; panel < p1; panel++)
        {
            int j0 = job.Jc + panel * nr;
            int w = Math.Min(nr, job.N - j0);
            float* d = job.DirectB ? dst : dst + (nint)panel * kc * nr;
            if (!job.TransB)
            {
                float* s = job.B + (nint)job.Pc * job.Ldb + j0;
                if (w == nr)
                {
                    for (int p = 0; p < kc; p++, s += job.Ldb, d += nr)
                        Buffer.MemoryCopy(s, d, nr * sizeof(float), nr * sizeof(float));
                }
                else
                {
                    for (int p = 0; p < kc; p++, s += job.Ldb, d += nr)
                    {
                        int j = 0;
                        for (; j < w; j++) d[j] = s[j];
                        for (; j < nr; j++) d[j] = 0;
                    }
                }
            }
            else
            {
                int pv = 0;
                if (Avx.IsSupported && w == nr && nr % 8 == 0)
                    pv = PackTransposed(job.B + (nint)j0 * job.Ldb + job.Pc, job.Ldb, nr, kc, d, nr);
                int jj = 0;
                for (; jj < w; jj++)
                {
                    float* s = job.B + (nint)(j0 + jj) * job.Ldb + job.Pc;
                    float* dd = d + jj;
                    for (int p = pv; p < kc; p++) dd[(nint)p * nr] = s[p];
                }
                for (; jj < nr; jj++)
                    for (int p = 0; p < kc; p++) d[(nint)p * nr + jj] = 0;
            }
        }
    }

    // Packs op(A)[i0..i0+mc, pc..pc+kc] as micro-panels of MR rows: element (i, p) of panel q at
    // dst[q*kc*MR + p*MR + i], zero-padded past m.
    private static void PackA(Job job, int i0, int mc, float* dst)
    {
        int mr = MR, kc = job.Kc;
        for (int q = 0; q * mr < mc; q++)
        {
            int r0 = i0 + q * mr;
            int h = Math.Min(mr, mc - q * mr);
            float* d = dst + (nint)q * kc * mr;
            if (!job.TransA)
            {
                int pv = 0;
                if (Avx.IsSupported && h == mr && (mr % 8 == 0 || mr == 14))
                    pv = PackTransposed(job.A + (nint)r0 * job.Lda + job.Pc, job.Lda, mr, kc, d, mr);
                int ii = 0;
                for (; ii < h; ii++)
                {
                    float* s = job.A + (nint)(r0 + ii) * job.Lda + job.Pc;
                    float* dd = d + ii;
                    for (int p = pv; p < kc; p++) dd[(nint)p * mr] = s[p];
                }
                for (; ii < mr; ii++)
                    for (int p = 0; p < kc; p++) d[(nint)p * mr + ii] = 0;
            }
            else
            {
                float* s = job.A + (nint)job.Pc * job.Lda + r0;
                for (int p = 0; p < kc; p++, s += job.Lda, d += mr)
                {
                    int ii = 0;
                    for (; ii < h; ii++) d[ii] = s[ii];
                    for (; ii < mr; ii++) d[ii] = 0;
                }
            }
        }
    }

    private static void ComputeItem(Job job, int item)
    {
        int mr = MR, nr = NR, kc = job.Kc;
        int mb = item / job.NSplit, ns = item % job.NSplit;
        // Even split of the row panels over the M blocks and of the column panels over the N splits.
        int q0 = (int)((long)job.MPanels * mb / job.MBlocks), q1 = (int)((long)job.MPanels * (mb + 1) / job.MBlocks);
        int s0 = (int)((long)job.NPanels * ns / job.NSplit), s1 = (int)((long)job.NPanels * (ns + 1) / job.NSplit);
        if (q0 >= q1 || s0 >= s1) return;
        int i0 = q0 * mr;
        int mc = Math.Min(job.M, q1 * mr) - i0;

        var buf = Buffers;
        float* pa = buf.A((nint)(q1 - q0) * mr * kc + 16);
        PackA(job, i0, mc, pa);

        float* tile = stackalloc float[MaxTile + 16];
        tile = (float*)(((nint)tile + 63) & ~(nint)63);
        var kernel = Path switch
        {
            Isa.V512 => (delegate*<int, float*, float*, nint, float*, int, bool, void>)&Kernel512,
            Isa.V256 => &Kernel256,
            _ => &Kernel128,
        };
        bool add = job.Add;
        int ldc = job.Ldc;
        for (int jr = s0; jr < s1; jr++)
        {
            int j0 = job.Jc + jr * nr;
            int w = Math.Min(nr, job.N - j0);
            float* pb;
            nint bStride;
            if (job.DirectB && w == nr) { pb = job.B + (nint)job.Pc * job.Ldb + j0; bStride = job.Ldb; }
            else if (job.DirectB) { pb = job.PackedB; bStride = nr; }
            else { pb = job.PackedB + (nint)jr * kc * nr; bStride = nr; }
            for (int q = 0; q < q1 - q0; q++)
            {
                int r0 = i0 + q * mr;
                int h = Math.Min(mr, job.M - r0);
                float* cp = job.C + (nint)r0 * ldc + j0;
                float* ap = pa + (nint)q * kc * mr;
                if (h == mr && w == nr)
                {
                    kernel(kc, ap, pb, bStride, cp, ldc, add);
                }
                else
                {
                    kernel(kc, ap, pb, bStride, tile, nr, false);
                    for (int i = 0; i < h; i++)
                    {
                        float* cr = cp + (nint)i * ldc;
                        float* tr = tile + i * nr;
                        if (add) for (int j = 0; j < w; j++) cr[j] = tr[j] + cr[j];
                        else for (int j = 0; j < w; j++) cr[j] = tr[j];
                    }
                }
            }
        }
    }

    private const int MaxTile = 16 * 64;
    private const long GemvParallelThreshold = 1 << 16;

    // ---------------------------------------------------------------------------------------------
    // Per-thread packing buffers (A block, B panel, GEMV vector), reused across calls.
    [ThreadStatic] private static AlignedScratch? _buffers;

    private static PackingBuffers Buffers => new(_buffers ??= new AlignedScratch(3));

    private readonly struct PackingBuffers(AlignedScratch scratch)
    {
        public float* A(nint floats) => scratch.Get(0, floats);
        public float* B(nint floats) => scratch.Get(1, floats);
        public float* Vec(nint floats) => scratch.Get(2, floats);
    }

    // ---------------------------------------------------------------------------------------------
    // Micro-kernels: C[MR×NR] (+)= Apanel[kc×MR]ᵀ · Bpanel[kc×NR]; B rows are bStride floats apart.

    // 14x32 tile: 28 accumulators + 2 B vectors + 1 broadcast stay in registers.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512(int kc, float* a, float* b, nint bStride, float* c, int ldc, bool add)
    {
        Vector512<float> c0_0 = default; Vector512<float> c0_1 = default;
        Vector512<float> c1_0 = default; Vector512<float> c1_1 = default;
        Vector512<float> c2_0 = default; Vector512<float> c2_1 = default;
        Vector512<float> c3_0 = default; Vector512<float> c3_1 = default;
        Vector512<float> c4_0 = default; Vector512<float> c4_1 = default;
        Vector512<float> c5_0 = default; Vector512<float> c5_1 = default;
        Vector512<float> c6_0 = default; Vector512<float> c6_1 = default;
        Vector512<float> c7_0 = default; Vector512<float> c7_1 = default;
        Vector512<float> c8_0 = default; Vector512<float> c8_1 = default;
        Vector512<float> c9_0 = default; Vector512<float> c9_1 = default;
        Vector512<float> c10_0 = default; Vector512<float> c10_1 = default;
        Vector512<float> c11_0 = default; Vector512<float> c11_1 = default;
        Vector512<float> c12_0 = default; Vector512<float> c12_1 = default;
        Vector512<float> c13_0 = default; Vector512<float> c13_1 = default;
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(c + 0 * (nint)ldc); Sse.Prefetch0(c + 0 * (nint)ldc + 31);
            Sse.Prefetch0(c + 1 * (nint)ldc); Sse.Prefetch0(c + 1 * (nint)ldc + 31);
            Sse.Prefetch0(c + 2 * (nint)ldc); Sse.Prefetch0(c + 2 * (nint)ldc + 31);
            Sse.Prefetch0(c + 3 * (nint)ldc); Sse.Prefetch0(c + 3 * (nint)ldc + 31);
            Sse.Prefetch0(c + 4 * (nint)ldc); Sse.Prefetch0(c + 4 * (nint)ldc + 31);
            Sse.Prefetch0(c + 5 * (nint)ldc); Sse.Prefetch0(c + 5 * (nint)ldc + 31);
            Sse.Prefetch0(c + 6 * (nint)ldc); Sse.Prefetch0(c + 6 * (nint)ldc + 31);
            Sse.Prefetch0(c + 7 * (nint)ldc); Sse.Prefetch0(c + 7 * (nint)ldc + 31);
            Sse.Prefetch0(c + 8 * (nint)ldc); Sse.Prefetch0(c + 8 * (nint)ldc + 31);
            Sse.Prefetch0(c + 9 * (nint)ldc); Sse.Prefetch0(c + 9 * (nint)ldc + 31);
            Sse.Prefetch0(c + 10 * (nint)ldc); Sse.Prefetch0(c + 10 * (nint)ldc + 31);
            Sse.Prefetch0(c + 11 * (nint)ldc); Sse.Prefetch0(c + 11 * (nint)ldc + 31);
            Sse.Prefetch0(c + 12 * (nint)ldc); Sse.Prefetch0(c + 12 * (nint)ldc + 31);
            Sse.Prefetch0(c + 13 * (nint)ldc); Sse.Prefetch0(c + 13 * (nint)ldc + 31);
        }
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b + 0);
            Vector512<float> b1 = Vector512.Load(b + 16);
            { var ai = Vector512.Create(a[0]); c0_0 = Vector512.FusedMultiplyAdd(ai, b0, c0_0); c0_1 = Vector512.FusedMultiplyAdd(ai, b1, c0_1); }
            { var ai = Vector512.Create(a[1]); c1_0 = Vector512.FusedMultiplyAdd(ai, b0, c1_0); c1_1 = Vector512.FusedMultiplyAdd(ai, b1, c1_1); }
            { var ai = Vector512.Create(a[2]); c2_0 = Vector512.FusedMultiplyAdd(ai, b0, c2_0); c2_1 = Vector512.FusedMultiplyAdd(ai, b1, c2_1); }
            { var ai = Vector512.Create(a[3]); c3_0 = Vector512.FusedMultiplyAdd(ai, b0, c3_0); c3_1 = Vector512.FusedMultiplyAdd(ai, b1, c3_1); }
            { var ai = Vector512.Create(a[4]); c4_0 = Vector512.FusedMultiplyAdd(ai, b0, c4_0); c4_1 = Vector512.FusedMultiplyAdd(ai, b1, c4_1); }
            { var ai = Vector512.Create(a[5]); c5_0 = Vector512.FusedMultiplyAdd(ai, b0, c5_0); c5_1 = Vector512.FusedMultiplyAdd(ai, b1, c5_1); }
            { var ai = Vector512.Create(a[6]); c6_0 = Vector512.FusedMultiplyAdd(ai, b0, c6_0); c6_1 = Vector512.FusedMultiplyAdd(ai, b1, c6_1); }
            { var ai = Vector512.Create(a[7]); c7_0 = Vector512.FusedMultiplyAdd(ai, b0, c7_0); c7_1 = Vector512.FusedMultiplyAdd(ai, b1, c7_1); }
            { var ai = Vector512.Create(a[8]); c8_0 = Vector512.FusedMultiplyAdd(ai, b0, c8_0); c8_1 = Vector512.FusedMultiplyAdd(ai, b1, c8_1); }
            { var ai = Vector512.Create(a[9]); c9_0 = Vector512.FusedMultiplyAdd(ai, b0, c9_0); c9_1 = Vector512.FusedMultiplyAdd(ai, b1, c9_1); }
            { var ai = Vector512.Create(a[10]); c10_0 = Vector512.FusedMultiplyAdd(ai, b0, c10_0); c10_1 = Vector512.FusedMultiplyAdd(ai, b1, c10_1); }
            { var ai = Vector512.Create(a[11]); c11_0 = Vector512.FusedMultiplyAdd(ai, b0, c11_0); c11_1 = Vector512.FusedMultiplyAdd(ai, b1, c11_1); }
            { var ai = Vector512.Create(a[12]); c12_0 = Vector512.FusedMultiplyAdd(ai, b0, c12_0); c12_1 = Vector512.FusedMultiplyAdd(ai, b1, c12_1); }
            { var ai = Vector512.Create(a[13]); c13_0 = Vector512.FusedMultiplyAdd(ai, b0, c13_0); c13_1 = Vector512.FusedMultiplyAdd(ai, b1, c13_1); }
            a += 14; b += bStride;
        }
        if (add)
        {
            { float* r = c + 0 * (nint)ldc; (c0_0 + Vector512.Load(r + 0)).Store(r + 0); (c0_1 + Vector512.Load(r + 16)).Store(r + 16); }
            { float* r = c + 1 * (nint)ldc; (c1_0 + Vector512.Load(r + 0)).Store(r + 0); (c1_1 + Vector512.Load(r + 16)).Store(r + 16); }
            { float* r = c + 2 * (nint)ldc; (c2_0 + Vector512.Load(r + 0)).Store(r + 0); (c2_1 + Vector512.Load(r + 16)).Store(r + 16); }
            { float* r = c + 3 * (nint)ldc; (c3_0 + Vector512.Load(r + 0)).Store(r + 0); (c3_1 + Vector512.Load(r + 16)).Store(r + 16); }
            { float* r = c + 4 * (nint)ldc; (c4_0 + Vector512.Load(r + 0)).Store(r + 0); (c4_1 + Vector512.Load(r + 16)).Store(r + 16); }
            { float* r = c + 5 * (nint)ldc; (c5_0 + Vector512.Load(r + 0)).Store(r + 0); (c5_1 + Vector512.Load(r + 16)).Store(r + 16); }
            { float* r = c + 6 * (nint)ldc; (c6_0 + Vector512.Load(r + 0)).Store(r + 0); (c6_1 + Vector512.Load(r + 16)).Store(r + 16); }
            { float* r = c + 7 * (nint)ldc; (c7_0 + Vector512.Load(r + 0)).Store(r + 0); (c7_1 + Vector512.Load(r + 16)).Store(r + 16); }
            { float* r = c + 8 * (nint)ldc; (c8_0 + Vector512.Load(r + 0)).Store(r + 0); (c8_1 + Vector512.Load(r + 16)).Store(r + 16); }
            { float* r = c + 9 * (nint)ldc; (c9_0 + Vector512.Load(r + 0)).Store(r + 0); (c9_1 + Vector512.Load(r + 16)).Store(r + 16); }
            { float* r = c + 10 * (nint)ldc; (c10_0 + Vector512.Load(r + 0)).Store(r + 0); (c10_1 + Vector512.Load(r + 16)).Store(r + 16); }
            { float* r = c + 11 * (nint)ldc; (c11_0 + Vector512.Load(r + 0)).Store(r + 0); (c11_1 + Vector512.Load(r + 16)).Store(r + 16); }
            { float* r = c + 12 * (nint)ldc; (c12_0 + Vector512.Load(r + 0)).Store(r + 0); (c12_1 + Vector512.Load(r + 16)).Store(r + 16); }
            { float* r = c + 13 * (nint)ldc; (c13_0 + Vector512.Load(r + 0)).Store(r + 0); (c13_1 + Vector512.Load(r + 16)).Store(r + 16); }
        }
        else
        {
            { float* r = c + 0 * (nint)ldc; c0_0.Store(r + 0); c0_1.Store(r + 16); }
            { float* r = c + 1 * (nint)ldc; c1_0.Store(r + 0); c1_1.Store(r + 16); }
            { float* r = c + 2 * (nint)ldc; c2_0.Store(r + 0); c2_1.Store(r + 16); }
            { float* r = c + 3 * (nint)ldc; c3_0.Store(r + 0); c3_1.Store(r + 16); }
            { float* r = c + 4 * (nint)ldc; c4_0.Store(r + 0); c4_1.Store(r + 16); }
            { float* r = c + 5 * (nint)ldc; c5_0.Store(r + 0); c5_1.Store(r + 16); }
            { float* r = c + 6 * (nint)ldc; c6_0.Store(r + 0); c6_1.Store(r + 16); }
            { float* r = c + 7 * (nint)ldc; c7_0.Store(r + 0); c7_1.Store(r + 16); }
            { float* r = c + 8 * (nint)ldc; c8_0.Store(r + 0); c8_1.Store(r + 16); }
            { float* r = c + 9 * (nint)ldc; c9_0.Store(r + 0); c9_1.Store(r + 16); }
            { float* r = c + 10 * (nint)ldc; c10_0.Store(r + 0); c10_1.Store(r + 16); }
            { float* r = c + 11 * (nint)ldc; c11_0.Store(r + 0); c11_1.Store(r + 16); }
            { float* r = c + 12 * (nint)ldc; c12_0.Store(r + 0); c12_1.Store(r + 16); }
            { float* r = c + 13 * (nint)ldc; c13_0.Store(r + 0); c13_1.Store(r + 16); }
        }
    }

    // 6x16 tile: 12 accumulators + 2 B vectors + 1 broadcast stay in registers.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel256(int kc, float* a, float* b, nint bStride, float* c, int ldc, bool add)
    {
        Vector256<float> c0_0 = default; Vector256<float> c0_1 = default;
        Vector256<float> c1_0 = default; Vector256<float> c1_1 = default;
        Vector256<float> c2_0 = default; Vector256<float> c2_1 = default;
        Vector256<float> c3_0 = default; Vector256<float> c3_1 = default;
        Vector256<float> c4_0 = default; Vector256<float> c4_1 = default;
        Vector256<float> c5_0 = default; Vector256<float> c5_1 = default;
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(c + 0 * (nint)ldc); Sse.Prefetch0(c + 0 * (nint)ldc + 15);
            Sse.Prefetch0(c + 1 * (nint)ldc); Sse.Prefetch0(c + 1 * (nint)ldc + 15);
            Sse.Prefetch0(c + 2 * (nint)ldc); Sse.Prefetch0(c + 2 * (nint)ldc + 15);
            Sse.Prefetch0(c + 3 * (nint)ldc); Sse.Prefetch0(c + 3 * (nint)ldc + 15);
            Sse.Prefetch0(c + 4 * (nint)ldc); Sse.Prefetch0(c + 4 * (nint)ldc + 15);
            Sse.Prefetch0(c + 5 * (nint)ldc); Sse.Prefetch0(c + 5 * (nint)ldc + 15);
        }
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.Load(b + 0);
            Vector256<float> b1 = Vector256.Load(b + 8);
            { var ai = Vector256.Create(a[0]); c0_0 = Fma.MultiplyAdd(ai, b0, c0_0); c0_1 = Fma.MultiplyAdd(ai, b1, c0_1); }
            { var ai = Vector256.Create(a[1]); c1_0 = Fma.MultiplyAdd(ai, b0, c1_0); c1_1 = Fma.MultiplyAdd(ai, b1, c1_1); }
            { var ai = Vector256.Create(a[2]); c2_0 = Fma.MultiplyAdd(ai, b0, c2_0); c2_1 = Fma.MultiplyAdd(ai, b1, c2_1); }
            { var ai = Vector256.Create(a[3]); c3_0 = Fma.MultiplyAdd(ai, b0, c3_0); c3_1 = Fma.MultiplyAdd(ai, b1, c3_1); }
            { var ai = Vector256.Create(a[4]); c4_0 = Fma.MultiplyAdd(ai, b0, c4_0); c4_1 = Fma.MultiplyAdd(ai, b1, c4_1); }
            { var ai = Vector256.Create(a[5]); c5_0 = Fma.MultiplyAdd(ai, b0, c5_0); c5_1 = Fma.MultiplyAdd(ai, b1, c5_1); }
            a += 6; b += bStride;
        }
        if (add)
        {
            { float* r = c + 0 * (nint)ldc; (c0_0 + Vector256.Load(r + 0)).Store(r + 0); (c0_1 + Vector256.Load(r + 8)).Store(r + 8); }
            { float* r = c + 1 * (nint)ldc; (c1_0 + Vector256.Load(r + 0)).Store(r + 0); (c1_1 + Vector256.Load(r + 8)).Store(r + 8); }
            { float* r = c + 2 * (nint)ldc; (c2_0 + Vector256.Load(r + 0)).Store(r + 0); (c2_1 + Vector256.Load(r + 8)).Store(r + 8); }
            { float* r = c + 3 * (nint)ldc; (c3_0 + Vector256.Load(r + 0)).Store(r + 0); (c3_1 + Vector256.Load(r + 8)).Store(r + 8); }
            { float* r = c + 4 * (nint)ldc; (c4_0 + Vector256.Load(r + 0)).Store(r + 0); (c4_1 + Vector256.Load(r + 8)).Store(r + 8); }
            { float* r = c + 5 * (nint)ldc; (c5_0 + Vector256.Load(r + 0)).Store(r + 0); (c5_1 + Vector256.Load(r + 8)).Store(r + 8); }
        }
        else
        {
            { float* r = c + 0 * (nint)ldc; c0_0.Store(r + 0); c0_1.Store(r + 8); }
            { float* r = c + 1 * (nint)ldc; c1_0.Store(r + 0); c1_1.Store(r + 8); }
            { float* r = c + 2 * (nint)ldc; c2_0.Store(r + 0); c2_1.Store(r + 8); }
            { float* r = c + 3 * (nint)ldc; c3_0.Store(r + 0); c3_1.Store(r + 8); }
            { float* r = c + 4 * (nint)ldc; c4_0.Store(r + 0); c4_1.Store(r + 8); }
            { float* r = c + 5 * (nint)ldc; c5_0.Store(r + 0); c5_1.Store(r + 8); }
        }
    }

    // 4x8 tile: 8 accumulators + 2 B vectors + 1 broadcast stay in registers.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel128(int kc, float* a, float* b, nint bStride, float* c, int ldc, bool add)
    {
        Vector128<float> c0_0 = default; Vector128<float> c0_1 = default;
        Vector128<float> c1_0 = default; Vector128<float> c1_1 = default;
        Vector128<float> c2_0 = default; Vector128<float> c2_1 = default;
        Vector128<float> c3_0 = default; Vector128<float> c3_1 = default;
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(c + 0 * (nint)ldc); Sse.Prefetch0(c + 0 * (nint)ldc + 7);
            Sse.Prefetch0(c + 1 * (nint)ldc); Sse.Prefetch0(c + 1 * (nint)ldc + 7);
            Sse.Prefetch0(c + 2 * (nint)ldc); Sse.Prefetch0(c + 2 * (nint)ldc + 7);
            Sse.Prefetch0(c + 3 * (nint)ldc); Sse.Prefetch0(c + 3 * (nint)ldc + 7);
        }
        for (int p = 0; p < kc; p++)
        {
            Vector128<float> b0 = Vector128.Load(b + 0);
            Vector128<float> b1 = Vector128.Load(b + 4);
            { var ai = Vector128.Create(a[0]); c0_0 = Vector128.MultiplyAddEstimate(ai, b0, c0_0); c0_1 = Vector128.MultiplyAddEstimate(ai, b1, c0_1); }
            { var ai = Vector128.Create(a[1]); c1_0 = Vector128.MultiplyAddEstimate(ai, b0, c1_0); c1_1 = Vector128.MultiplyAddEstimate(ai, b1, c1_1); }
            { var ai = Vector128.Create(a[2]); c2_0 = Vector128.MultiplyAddEstimate(ai, b0, c2_0); c2_1 = Vector128.MultiplyAddEstimate(ai, b1, c2_1); }
            { var ai = Vector128.Create(a[3]); c3_0 = Vector128.MultiplyAddEstimate(ai, b0, c3_0); c3_1 = Vector128.MultiplyAddEstimate(ai, b1, c3_1); }
            a += 4; b += bStride;
        }
        if (add)
        {
            { float* r = c + 0 * (nint)ldc; (c0_0 + Vector128.Load(r + 0)).Store(r + 0); (c0_1 + Vector128.Load(r + 4)).Store(r + 4); }
            { float* r = c + 1 * (nint)ldc; (c1_0 + Vector128.Load(r + 0)).Store(r + 0); (c1_1 + Vector128.Load(r + 4)).Store(r + 4); }
            { float* r = c + 2 * (nint)ldc; (c2_0 + Vector128.Load(r + 0)).Store(r + 0); (c2_1 + Vector128.Load(r + 4)).Store(r + 4); }
            { float* r = c + 3 * (nint)ldc; (c3_0 + Vector128.Load(r + 0)).Store(r + 0); (c3_1 + Vector128.Load(r + 4)).Store(r + 4); }
        }
        else
        {
            { float* r = c + 0 * (nint)ldc; c0_0.Store(r + 0); c0_1.Store(r + 4); }
            { float* r = c + 1 * (nint)ldc; c1_0.Store(r + 0); c1_1.Store(r + 4); }
            { float* r = c + 2 * (nint)ldc; c2_0.Store(r + 0); c2_1.Store(r + 4); }
            { float* r = c + 3 * (nint)ldc; c3_0.Store(r + 0); c3_1.Store(r + 4); }
        }
    }

}
