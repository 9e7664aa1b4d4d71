using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace AlignSharp.Tensors.Kernels;

/// <summary>
/// Scaled dot-product attention that never builds a T×T matrix (Dao et al. 2022, FlashAttention; the
/// backward pass follows FlashAttention-2). Layouts: q [B, Tq, H, D]; k, v [B, Tk, KVH, D]; H a multiple
/// of KVH (grouped-query attention: query head h reads key/value head h / (H/KVH)). Query t sees key j
/// when j ≤ t + (Tk − Tq) (causal with a KV-cache offset) and the key mask allows j. A row that sees no
/// key outputs zeros and gets lse = −∞.
/// <para>
/// Tiled path: query blocks of <see cref="Bq"/> rows × key blocks of <see cref="Bk"/> keys. Each tile
/// product runs on a register-blocked AVX-512 micro-kernel (<see cref="Gemm"/>) whose B operand is a
/// packed, zero-padded scratch copy (rows of Dp = D rounded up to 16 floats); A operands are read in
/// place with arbitrary row/column strides, which also gives the transposed products Pᵀ·dO and dSᵀ·Q
/// without a copy. Rows with few queries (decode) use the row-wise path, where gathering tiles costs
/// more than it saves.
/// </para>
/// <para>
/// Determinism: every output element is accumulated by exactly one work item in a fixed loop order
/// (forward items per (batch, head); backward items per (batch, kv head), which own dK, dV of that kv
/// head and dQ of the heads in its group), so results do not depend on the thread count.
/// </para>
/// </summary>
internal sealed unsafe class FlashAttention
{
    public required int B, Tq, Tk, H, KVH, D;
    public required bool Causal;
    public required float Scale;
    public float[]? KeyMask;   // [B, Tk], 0 = masked

    /// <summary>Positions allocated per batch row in k and v (a KV cache holds more than the Tk in use); defaults to Tk.</summary>
    public int KvCapacity { get => _kvCapacity == 0 ? Tk : _kvCapacity; init => _kvCapacity = value; }
    private readonly int _kvCapacity;

    private const int Bq = 64, Bk = 64;

    // Below this many query rows per head the row-wise kernels are faster than packing tiles.
    private const int TiledMinRows = 2;

    private int Group => H / KVH;

    private int KeyEnd(int t) => Causal ? Math.Min(Tk, t + (Tk - Tq) + 1) : Tk;

    private bool KeyAllowed(int b, int j) => KeyMask is null || KeyMask[b * Tk + j] != 0f;

    private bool Tiled => Tq >= TiledMinRows && Vector512.IsHardwareAccelerated;

    /// <summary>Fills o and lse ([B, H, Tq]).</summary>
    public void Forward(float[] q, int qo, float[] k, int ko, float[] v, int vo, float[] o, int oo, float[] lse)
    {
        // Under Sgemm.RowInvariant or Sgemm.BlockedOrder every query row is computed as a one-row (decode) step computes
        // it, so a training forward, a left-padded prefill and a KV-cached decode step give a row bitwise the same output;
        // the backward is unaffected.
        bool rowInvariant = Sgemm.IsRowInvariant || Sgemm.IsBlockedOrder;
        if (!Tiled || rowInvariant) { ForwardRows(q, qo, k, ko, v, vo, o, oo, lse, rowInvariant); return; }
        fixed (float* pq = q, pk = k, pv = v, po = o, pl = lse)
        {
            float* q0 = pq + qo, k0 = pk + ko, v0 = pv + vo, o0 = po + oo, l0 = pl;
            WorkerPool.Current.For(B * H, item => ForwardItem(item, q0, k0, v0, o0, l0));
        }
    }

    /// <summary>
    /// Adds into dq, dk, dv (any may be null). With P = softmax(S), Δᵢ = dOᵢ·Oᵢ:
    /// dV_j += Σᵢ P_ij dOᵢ; dS_ij = P_ij (dOᵢ·V_j − Δᵢ); dQᵢ += scale Σⱼ dS_ij K_j; dK_j += scale Σᵢ dS_ij Qᵢ.
    /// Work is split by (batch, key/value head), so each item owns the dK/dV rows and the dQ heads it writes.
    /// </summary>
    public void Backward(float[] q, int qo, float[] k, int ko, float[] v, int vo, float[] o, int oo, float[] lse, float[] dout, int go,
        float[]? dq, int dqo, float[]? dk, int dko, float[]? dv, int dvo)
    {
        if (!Tiled) { BackwardRows(q, qo, k, ko, v, vo, o, oo, lse, dout, go, dq, dqo, dk, dko, dv, dvo); return; }
        if (dq is null && dk is null && dv is null) return;
        fixed (float* pq = q, pk = k, pv = v, po = o, pl = lse, pg = dout, pdq = dq, pdk = dk, pdv = dv)
        {
            var args = new BackwardArgs
            {
                Q = pq + qo, K = pk + ko, V = pv + vo, O = po + oo, Lse = pl, G = pg + go,
                DQ = dq is null ? null : pdq + dqo, DK = dk is null ? null : pdk + dko, DV = dv is null ? null : pdv + dvo,
            };
            WorkerPool.Current.For(B * KVH, item => BackwardItem(item, args));
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Tiled forward: online softmax over key blocks. Per row, with running max m and sum l:
    //   m' = max(m, maxⱼ sⱼ), α = e^(m − m'), pⱼ = e^(sⱼ − m'), l' = α·l + Σⱼ pⱼ, O' = α·O + P·V_blk;
    // at the end O /= l and lse = m + ln l.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ForwardItem(int item, float* q, float* k, float* v, float* o, float* lse)
    {
        int b = item / H, h = item % H, kvh = h / Group, off = Tk - Tq;
        int qRow = H * D, kRow = KVH * D;
        int dp = RoundUp(D, 16), nv = dp / 16;
        int keys = KeyEnd(Tq - 1);   // keys any row of this head can see
        int tkp = RoundUp(Math.Max(keys, 1), Bk);
        var s = Scratch;
        float* kt = s.Get(0, (nint)D * tkp);     // Kᵀ [D × tkp]
        float* vs = s.Get(1, (nint)tkp * dp);    // V  [tkp × dp]
        float* madd = s.Get(2, tkp);             // additive key mask: 0 or −∞
        float* sc = s.Get(3, Bq * Bk);           // scores / probabilities tile
        float* acc = s.Get(4, Bq * dp);          // unnormalised output rows
        float* stat = s.Get(5, 2 * Bq);          // m, l per row
        float* kbase = k + (nint)b * KvCapacity * kRow + kvh * D, vbase = v + (nint)b * KvCapacity * kRow + kvh * D;
        PackTransposed(kbase, kRow, keys, tkp, kt);
        PackRows(vbase, kRow, keys, tkp, vs, dp);
        FillMask(b, keys, tkp, madd);

        for (int i0 = 0; i0 < Tq; i0 += Bq)
        {
            int n = Math.Min(Bq, Tq - i0);
            float* qi = q + ((nint)b * Tq + i0) * qRow + h * D;
            float* m = stat, l = stat + Bq;
            for (int r = 0; r < n; r++) { m[r] = float.NegativeInfinity; l[r] = 0f; }
            new Span<float>(acc, n * dp).Clear();
            int jEnd = KeyEnd(i0 + n - 1);
            for (int j0 = 0; j0 < jEnd; j0 += Bk)
            {
                // First row of the block that sees key j0 (earlier rows see none of this key block).
                int r0 = Causal ? Math.Clamp(j0 - off - i0, 0, n) : 0;
                if (r0 == n) break;
                Gemm(n - r0, 4, D, qi + (nint)r0 * qRow, qRow, 1, kt + j0, tkp, sc + r0 * Bk, Bk, false);
                for (int r = r0; r < n; r++)
                {
                    float* row = sc + r * Bk;
                    int limit = Causal ? i0 + r + off - j0 : int.MaxValue;   // last visible column
                    float rowMax = MaskScale(row, madd + j0, limit);
                    float mNew = MathF.Max(m[r], rowMax);
                    if (float.IsNegativeInfinity(mNew)) { new Span<float>(row, Bk).Clear(); continue; }
                    float alpha = MathF.Exp(m[r] - mNew);
                    float sum = ExpRow(row, mNew);
                    l[r] = l[r] * alpha + sum;
                    m[r] = mNew;
                    if (alpha != 1f) ScaleRow(acc + r * dp, alpha, acc + r * dp, dp);
                }
                Gemm(n - r0, nv, Bk, sc + r0 * Bk, Bk, 1, vs + (nint)j0 * dp, dp, acc + r0 * dp, dp, true);
            }
            for (int r = 0; r < n; r++)
            {
                int t = i0 + r;
                float* orow = o + ((nint)b * Tq + t) * qRow + h * D;
                float* lp = lse + ((nint)b * H + h) * Tq + t;
                if (l[r] == 0f) { new Span<float>(orow, D).Clear(); *lp = float.NegativeInfinity; continue; }
                ScaleRow(acc + r * dp, 1f / l[r], orow, D);
                *lp = m[r] + MathF.Log(l[r]);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Tiled backward (FlashAttention-2), per (batch, kv head), key blocks outer, query blocks inner:
    //   P = exp(scale·Q_i K_jᵀ + mask − lse_i)          (recomputed tile, no T×T storage)
    //   dV_j += Pᵀ dO_i,   dP = dO_i V_jᵀ,   dS = scale · P ⊙ (dP − Δ_i)
    //   dQ_i += dS K_j,    dK_j += dSᵀ Q_i
    // dK_j, dV_j accumulate over (head, query block) in ascending order; dQ_i over key blocks ascending.

    private sealed class BackwardArgs
    {
        public float* Q, K, V, O, Lse, G, DQ, DK, DV;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void BackwardItem(int item, BackwardArgs a)
    {
        int b = item / KVH, kvh = item % KVH, off = Tk - Tq;
        int qRow = H * D, kRow = KVH * D;
        int dp = RoundUp(D, 16), nv = dp / 16;
        int keys = KeyEnd(Tq - 1);
        int tkp = RoundUp(Math.Max(keys, 1), Bk);
        int tqp = RoundUp(Tq, Bq);
        var s = Scratch;
        float* kt = s.Get(0, (nint)D * tkp);     // Kᵀ [D × tkp]
        float* vt = s.Get(1, (nint)D * tkp);     // Vᵀ [D × tkp]
        float* madd = s.Get(2, tkp);
        float* pt = s.Get(3, Bq * Bk);           // P tile [Bq × Bk]
        float* dst = s.Get(4, Bq * Bk);          // dP, then dS tile
        float* ks = s.Get(5, (nint)tkp * dp);    // K  [tkp × dp]
        float* dkAcc = s.Get(6, (nint)tkp * dp);
        float* dvAcc = s.Get(7, (nint)tkp * dp);
        float* qs = s.Get(8, (nint)tqp * dp);    // Q of one head [tqp × dp]
        float* gs = s.Get(9, (nint)tqp * dp);    // dO of one head
        float* dqAcc = s.Get(10, (nint)tqp * dp);
        float* delta = s.Get(11, tqp);
        float* kbase = a.K + (nint)b * KvCapacity * kRow + kvh * D, vbase = a.V + (nint)b * KvCapacity * kRow + kvh * D;
        PackTransposed(kbase, kRow, keys, tkp, kt);
        PackTransposed(vbase, kRow, keys, tkp, vt);
        FillMask(b, keys, tkp, madd);
        bool needDs = a.DQ is not null || a.DK is not null;
        if (needDs) PackRows(kbase, kRow, keys, tkp, ks, dp);
        if (a.DK is not null) new Span<float>(dkAcc, tkp * dp).Clear();
        if (a.DV is not null) new Span<float>(dvAcc, tkp * dp).Clear();

        for (int h = kvh * Group; h < (kvh + 1) * Group; h++)
        {
            float* qh = a.Q + (nint)b * Tq * qRow + h * D, gh = a.G + (nint)b * Tq * qRow + h * D;
            float* oh = a.O + (nint)b * Tq * qRow + h * D, lh = a.Lse + ((nint)b * H + h) * Tq;
            if (a.DK is not null) PackRows(qh, qRow, Tq, tqp, qs, dp);
            if (a.DV is not null) PackRows(gh, qRow, Tq, tqp, gs, dp);
            if (a.DQ is not null) new Span<float>(dqAcc, tqp * dp).Clear();
            for (int t = 0; t < Tq; t++)
                delta[t] = Elementwise.Dot(new ReadOnlySpan<float>(gh + (nint)t * qRow, D), new ReadOnlySpan<float>(oh + (nint)t * qRow, D));

            for (int j0 = 0; j0 < keys; j0 += Bk)
            {
                int iStart = Causal ? Math.Max(0, j0 - off) / Bq * Bq : 0;
                for (int i0 = iStart; i0 < Tq; i0 += Bq)
                {
                    int n = Math.Min(Bq, Tq - i0);
                    int r0 = Causal ? Math.Clamp(j0 - off - i0, 0, n) : 0;
                    if (r0 == n) continue;
                    int rows = n - r0;
                    int i1 = i0 + r0;   // first query row of the tile that sees a key of this block
                    Gemm(rows, 4, D, qh + (nint)i1 * qRow, qRow, 1, kt + j0, tkp, pt, Bk, false);
                    for (int r = 0; r < rows; r++)
                    {
                        float* row = pt + r * Bk;
                        float l = lh[i1 + r];
                        if (float.IsNegativeInfinity(l)) { new Span<float>(row, Bk).Clear(); continue; }
                        int limit = Causal ? i1 + r + off - j0 : int.MaxValue;
                        MaskScale(row, madd + j0, limit);
                        ExpRow(row, l);
                    }
                    if (a.DV is not null)
                        Gemm(Bk, nv, rows, pt, 1, Bk, gs + (nint)i1 * dp, dp, dvAcc + (nint)j0 * dp, dp, true);
                    if (!needDs) continue;
                    Gemm(rows, 4, D, gh + (nint)i1 * qRow, qRow, 1, vt + j0, tkp, dst, Bk, false);
                    for (int r = 0; r < rows; r++)
                        DsRow(pt + r * Bk, dst + r * Bk, delta[i1 + r], Scale);
                    if (a.DQ is not null)
                        Gemm(rows, nv, Bk, dst, Bk, 1, ks + (nint)j0 * dp, dp, dqAcc + (nint)i1 * dp, dp, true);
                    if (a.DK is not null)
                        Gemm(Bk, nv, rows, dst, 1, Bk, qs + (nint)i1 * dp, dp, dkAcc + (nint)j0 * dp, dp, true);
                }
            }
            if (a.DQ is not null)
            {
                float* dqh = a.DQ + (nint)b * Tq * qRow + h * D;
                for (int t = 0; t < Tq; t++)
                    AddRow(dqh + (nint)t * qRow, dqAcc + (nint)t * dp, D);
            }
        }
        float* dkb = a.DK is null ? null : a.DK + (nint)b * KvCapacity * kRow + kvh * D;
        float* dvb = a.DV is null ? null : a.DV + (nint)b * KvCapacity * kRow + kvh * D;
        for (int j = 0; j < keys; j++)
        {
            if (dkb is not null) AddRow(dkb + (nint)j * kRow, dkAcc + (nint)j * dp, D);
            if (dvb is not null) AddRow(dvb + (nint)j * kRow, dvAcc + (nint)j * dp, D);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Tile helpers.

    private static int RoundUp(int x, int m) => (x + m - 1) / m * m;

    /// dst[d·ld + j] = src[j·stride + d] for j &lt; rows, d &lt; D; columns rows..ld−1 zeroed. Goes 16 keys at
    /// a time so each store fills whole cache lines: a plain scatter with a power-of-two stride ld
    /// keeps D lines of one L1 set alive and thrashes it.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PackTransposed(float* src, int stride, int rows, int ld, float* dst)
    {
        for (int d = 0; d < D; d++) new Span<float>(dst + (nint)d * ld + rows, ld - rows).Clear();
        int j0 = 0;
        for (; j0 + 16 <= rows; j0 += 16)
        {
            float* s0 = src + (nint)j0 * stride;
            for (int d = 0; d < D; d++)
            {
                float* o = dst + (nint)d * ld + j0;
                float* c = s0 + d;
                for (int i = 0; i < 16; i++) o[i] = c[(nint)i * stride];
            }
        }
        for (int j = j0; j < rows; j++)
        {
            float* s1 = src + (nint)j * stride;
            for (int d = 0; d < D; d++) dst[(nint)d * ld + j] = s1[d];
        }
    }

    /// dst[j·dp + d] = src[j·stride + d], zero-padded to dp columns and to padRows rows.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PackRows(float* src, int stride, int rows, int padRows, float* dst, int dp)
    {
        for (int j = 0; j < rows; j++)
        {
            new ReadOnlySpan<float>(src + (nint)j * stride, D).CopyTo(new Span<float>(dst + (nint)j * dp, D));
            if (dp > D) new Span<float>(dst + (nint)j * dp + D, dp - D).Clear();
        }
        new Span<float>(dst + (nint)rows * dp, (padRows - rows) * dp).Clear();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void FillMask(int b, int keys, int tkp, float* madd)
    {
        for (int j = 0; j < tkp; j++) madd[j] = j < keys && KeyAllowed(b, j) ? 0f : float.NegativeInfinity;
    }

    /// row[c] = scale·row[c] + madd[c], and −∞ for c &gt; limit; returns the row maximum.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float MaskScale(float* row, float* madd, int limit)
    {
        var scale = Vector512.Create(Scale);
        var ninf = Vector512.Create(float.NegativeInfinity);
        var max = ninf;
        var lim = Vector512.Create(limit);
        var idx = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        for (int c = 0; c < Bk; c += 16)
        {
            var x = Vector512.FusedMultiplyAdd(Vector512.Load(row + c), scale, Vector512.Load(madd + c));
            if (limit < c + 15) x = Vector512.ConditionalSelect(Vector512.GreaterThan(idx + Vector512.Create(c), lim).AsSingle(), ninf, x);
            x.Store(row + c);
            max = Vector512.Max(max, x);
        }
        return HMax(max);
    }

    /// row[c] = e^(row[c] − shift) (0 where row[c] = −∞); returns Σ row in a fixed order.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float ExpRow(float* row, float shift)
    {
        var sh = Vector512.Create(shift);
        var sum = Vector512<float>.Zero;
        for (int c = 0; c < Bk; c += 16)
        {
            var x = Vector512.Load(row + c);
            var e = Exp(x - sh);
            e.Store(row + c);
            sum += e;
        }
        return Vector512.Sum(sum);
    }

    /// e^x (Cephes expf: x = n·ln2 + r, |r| ≤ ln2/2, degree-6 polynomial for e^r, 2^n via the exponent
    /// bits; about 1 ulp). Written here rather than calling Vector512.Exp so it inlines into the
    /// fully optimised tile loops instead of running as tier-0 library code on the first calls.
    /// Returns 0 for x &lt; −87.3 (including −∞), where the result would be denormal.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Exp(Vector512<float> x)
    {
        var under = Vector512.LessThan(x, Vector512.Create(-87.33654f));
        var xc = Vector512.Min(Vector512.Max(x, Vector512.Create(-87.33654f)), Vector512.Create(88.3762589f));
        var n = Vector512.Round(xc * Vector512.Create(1.44269504088896341f));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-0.693359375f), xc);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(2.12194440e-4f), r);
        var p = Vector512.Create(1.9875691500e-4f);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.3981999507e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(8.3334519073e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(4.1665795894e-2f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.6666665459e-1f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(5.0000001201e-1f));
        var y = Vector512.FusedMultiplyAdd(p, r * r, r) + Vector512<float>.One;
        var pow2 = Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23).AsSingle();
        return Vector512.ConditionalSelect(under, Vector512<float>.Zero, y * pow2);
    }

    /// ds[c] = scale·p[c]·(dp[c] − Δ).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DsRow(float* p, float* ds, float delta, float scale)
    {
        var dl = Vector512.Create(delta);
        var sc = Vector512.Create(scale);
        for (int c = 0; c < Bk; c += 16)
            (Vector512.Load(p + c) * sc * (Vector512.Load(ds + c) - dl)).Store(ds + c);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float HMax(Vector512<float> v)
    {
        var m = Vector256.Max(v.GetLower(), v.GetUpper());
        var m2 = Vector128.Max(m.GetLower(), m.GetUpper());
        return MathF.Max(MathF.Max(m2[0], m2[1]), MathF.Max(m2[2], m2[3]));
    }

    /// dst[i] += src[i], i &lt; n.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow(float* dst, float* src, int n)
    {
        int i = 0;
        for (; i + 16 <= n; i += 16) (Vector512.Load(dst + i) + Vector512.Load(src + i)).Store(dst + i);
        for (; i < n; i++) dst[i] += src[i];
    }

    /// dst[i] = a·src[i], i &lt; n (dst may be src).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScaleRow(float* src, float a, float* dst, int n)
    {
        var va = Vector512.Create(a);
        int i = 0;
        for (; i + 16 <= n; i += 16) (Vector512.Load(src + i) * va).Store(dst + i);
        for (; i < n; i++) dst[i] = src[i] * a;
    }

    // ---------------------------------------------------------------------------------------------
    // Micro-kernel: C[m × 16·nv] (+)= A[m × k] · B[k × 16·nv], A(i, p) = a[i·ars + p·acs] (any strides,
    // so Aᵀ is free), B row-major with row stride ldb, C row-major with ldc. Each C element is one FMA
    // chain over p ascending, started from the old C when accumulating: its value depends only on the
    // operands, never on the tile position.

    private interface IWidth { static abstract int V { get; } }
    private struct W1 : IWidth { public static int V => 1; }
    private struct W2 : IWidth { public static int V => 2; }
    private struct W3 : IWidth { public static int V => 3; }
    private struct W4 : IWidth { public static int V => 4; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Gemm(int m, int nv, int k, float* a, nint ars, nint acs, float* b, nint ldb, float* c, nint ldc, bool acc)
    {
        for (int v0 = 0; v0 < nv; v0 += 4)
        {
            float* bb = b + v0 * 16, cc = c + v0 * 16;
            switch (Math.Min(4, nv - v0))
            {
                case 4: Rows<W4>(m, k, a, ars, acs, bb, ldb, cc, ldc, acc); break;
                case 3: Rows<W3>(m, k, a, ars, acs, bb, ldb, cc, ldc, acc); break;
                case 2: Rows<W2>(m, k, a, ars, acs, bb, ldb, cc, ldc, acc); break;
                default: Rows<W1>(m, k, a, ars, acs, bb, ldb, cc, ldc, acc); break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows<TW>(int m, int k, float* a, nint ars, nint acs, float* b, nint ldb, float* c, nint ldc, bool acc)
        where TW : struct, IWidth
    {
        int i = 0;
        for (; i + 4 <= m; i += 4) Tile4<TW>(k, a + i * ars, ars, acs, b, ldb, c + i * ldc, ldc, acc);
        for (; i < m; i++) Tile1<TW>(k, a + i * ars, acs, b, ldb, c + i * ldc, acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4<TW>(int k, float* a, nint ars, nint acs, float* b, nint ldb, float* c, nint ldc, bool acc)
        where TW : struct, IWidth
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        float* r0 = c, r1 = c + ldc, r2 = c + 2 * ldc, r3 = c + 3 * ldc;
        if (acc)
        {
            c00 = Vector512.Load(r0); c10 = Vector512.Load(r1); c20 = Vector512.Load(r2); c30 = Vector512.Load(r3);
            if (TW.V > 1) { c01 = Vector512.Load(r0 + 16); c11 = Vector512.Load(r1 + 16); c21 = Vector512.Load(r2 + 16); c31 = Vector512.Load(r3 + 16); }
            if (TW.V > 2) { c02 = Vector512.Load(r0 + 32); c12 = Vector512.Load(r1 + 32); c22 = Vector512.Load(r2 + 32); c32 = Vector512.Load(r3 + 32); }
            if (TW.V > 3) { c03 = Vector512.Load(r0 + 48); c13 = Vector512.Load(r1 + 48); c23 = Vector512.Load(r2 + 48); c33 = Vector512.Load(r3 + 48); }
        }
        float* a0 = a, a1 = a + ars, a2 = a + 2 * ars, a3 = a + 3 * ars;
        for (int p = 0; p < k; p++)
        {
            nint ap = p * acs;
            var b0 = Vector512.Load(b);
            var b1 = TW.V > 1 ? Vector512.Load(b + 16) : default;
            var b2 = TW.V > 2 ? Vector512.Load(b + 32) : default;
            var b3 = TW.V > 3 ? Vector512.Load(b + 48) : default;
            var x = Vector512.Create(a0[ap]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00);
            if (TW.V > 1) c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            if (TW.V > 2) c02 = Vector512.FusedMultiplyAdd(x, b2, c02);
            if (TW.V > 3) c03 = Vector512.FusedMultiplyAdd(x, b3, c03);
            x = Vector512.Create(a1[ap]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10);
            if (TW.V > 1) c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            if (TW.V > 2) c12 = Vector512.FusedMultiplyAdd(x, b2, c12);
            if (TW.V > 3) c13 = Vector512.FusedMultiplyAdd(x, b3, c13);
            x = Vector512.Create(a2[ap]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20);
            if (TW.V > 1) c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            if (TW.V > 2) c22 = Vector512.FusedMultiplyAdd(x, b2, c22);
            if (TW.V > 3) c23 = Vector512.FusedMultiplyAdd(x, b3, c23);
            x = Vector512.Create(a3[ap]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30);
            if (TW.V > 1) c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            if (TW.V > 2) c32 = Vector512.FusedMultiplyAdd(x, b2, c32);
            if (TW.V > 3) c33 = Vector512.FusedMultiplyAdd(x, b3, c33);
            b += ldb;
        }
        c00.Store(r0); c10.Store(r1); c20.Store(r2); c30.Store(r3);
        if (TW.V > 1) { c01.Store(r0 + 16); c11.Store(r1 + 16); c21.Store(r2 + 16); c31.Store(r3 + 16); }
        if (TW.V > 2) { c02.Store(r0 + 32); c12.Store(r1 + 32); c22.Store(r2 + 32); c32.Store(r3 + 32); }
        if (TW.V > 3) { c03.Store(r0 + 48); c13.Store(r1 + 48); c23.Store(r2 + 48); c33.Store(r3 + 48); }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile1<TW>(int k, float* a, nint acs, float* b, nint ldb, float* c, bool acc)
        where TW : struct, IWidth
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        if (acc)
        {
            c0 = Vector512.Load(c);
            if (TW.V > 1) c1 = Vector512.Load(c + 16);
            if (TW.V > 2) c2 = Vector512.Load(c + 32);
            if (TW.V > 3) c3 = Vector512.Load(c + 48);
        }
        for (int p = 0; p < k; p++)
        {
            var x = Vector512.Create(a[p * acs]);
            c0 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b), c0);
            if (TW.V > 1) c1 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 16), c1);
            if (TW.V > 2) c2 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 32), c2);
            if (TW.V > 3) c3 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 48), c3);
            b += ldb;
        }
        c0.Store(c);
        if (TW.V > 1) c1.Store(c + 16);
        if (TW.V > 2) c2.Store(c + 32);
        if (TW.V > 3) c3.Store(c + 48);
    }

    [ThreadStatic] private static AlignedScratch? _scratch;

    /// <summary>This thread's scratch: slots 0–11 for tiles, 12 for the row-wise path's score row.</summary>
    private static AlignedScratch Scratch => _scratch ??= new AlignedScratch(13);

    // ---------------------------------------------------------------------------------------------
    // Row-wise path (few query rows, or no AVX-512): each query row computes its scores into a row
    // buffer; the backward pass recomputes the probabilities row by row.

    /// <param name="skipLeadingMasked">Sum the probabilities from the first key the mask allows, so a left-padded row sums
    /// (and rounds) exactly as the same row without its padding.</param>
    private void ForwardRows(float[] q, int qo, float[] k, int ko, float[] v, int vo, float[] o, int oo, float[] lse, bool skipLeadingMasked = false)
    {
        int qRow = H * D, kRow = KVH * D;
        WorkerPool.Current.For(B * H, item =>
        {
            int b = item / H, h = item % H, kvh = h / Group;
            int first = 0;
            if (skipLeadingMasked) while (first < Tk && !KeyAllowed(b, first)) first++;
            var scores = Scratch.Array(12, Tk);
            for (int t = 0; t < Tq; t++)
            {
                var qi = q.AsSpan(qo + (b * Tq + t) * qRow + h * D, D);
                var oi = o.AsSpan(oo + (b * Tq + t) * qRow + h * D, D);
                oi.Clear();
                int end = KeyEnd(t);
                float max = Scores(qi, k, ko + b * KvCapacity * kRow + kvh * D, kRow, b, end, scores);
                if (float.IsNegativeInfinity(max)) { lse[(b * H + h) * Tq + t] = float.NegativeInfinity; continue; }
                float sum = AccumulateValues(scores, first, end, max, v, vo + b * KvCapacity * kRow + kvh * D, kRow, oi);
                TensorPrimitives.Multiply(oi, 1f / sum, oi);
                lse[(b * H + h) * Tq + t] = max + MathF.Log(sum);
            }
        });
    }

    /// <summary>scores[j] = scale·q·K_j for the keys before <paramref name="end"/> (−∞ where masked); returns the maximum.</summary>
    private float Scores(Span<float> q, float[] k, int first, int stride, int b, int end, float[] scores)
    {
        float max = float.NegativeInfinity;
        if (Vector512.IsHardwareAccelerated && D % 16 == 0 && D <= 256)
        {
            // q stays in vector registers / L1 across all keys of the row.
            int n = D / 16;
            Span<Vector512<float>> qv = stackalloc Vector512<float>[n];
            for (int u = 0; u < n; u++) qv[u] = Vector512.Create<float>(q.Slice(u * 16, 16));
            ref float kr = ref MemoryMarshal.GetArrayDataReference(k);
            for (int j = 0; j < end; j++)
            {
                if (!KeyAllowed(b, j)) { scores[j] = float.NegativeInfinity; continue; }
                nuint row = (nuint)(first + j * stride);
                var acc = qv[0] * Vector512.LoadUnsafe(ref kr, row);
                for (int u = 1; u < n; u++) acc = Vector512.FusedMultiplyAdd(qv[u], Vector512.LoadUnsafe(ref kr, row + (nuint)(u * 16)), acc);
                float s = Vector512.Sum(acc) * Scale;
                scores[j] = s;
                if (s > max) max = s;
            }
            return max;
        }
        for (int j = 0; j < end; j++)
        {
            if (!KeyAllowed(b, j)) { scores[j] = float.NegativeInfinity; continue; }
            float s = Elementwise.Dot(q, k.AsSpan(first + j * stride, D)) * Scale;
            scores[j] = s;
            if (s > max) max = s;
        }
        return max;
    }

    /// <summary>
    /// o = Σⱼ e^(sⱼ − max)·V_j over the keys before <paramref name="end"/> (masked keys have sⱼ = −∞, so weight 0);
    /// returns Σⱼ e^(sⱼ − max). The keys before <paramref name="firstKey"/> are masked (weight 0, set directly); the
    /// exponentials and their sum start at it. The exponentials are computed as one vector pass; with AVX-512 and D a multiple of
    /// 16 the output row stays in vector accumulators (the decode hot loop).
    /// </summary>
    private float AccumulateValues(float[] scores, int firstKey, int end, float max, float[] v, int first, int stride, Span<float> o)
    {
        var p = scores.AsSpan(0, end);
        firstKey = Math.Min(firstKey, end);
        p[..firstKey].Clear();
        var live = p[firstKey..];   // vector chunks aligned to the first live key, as in the unpadded row
        TensorPrimitives.Subtract(live, max, live);
        TensorPrimitives.Exp(live, live);
        float sum = Elementwise.Sum(live);
        if (Vector512.IsHardwareAccelerated && D % 16 == 0 && D <= 256)
        {
            int n = D / 16;
            Span<Vector512<float>> acc = stackalloc Vector512<float>[n];
            acc.Clear();
            ref float vr = ref MemoryMarshal.GetArrayDataReference(v);
            for (int j = 0; j < end; j++)
            {
                float w = p[j];
                if (w == 0f) continue;
                var pv = Vector512.Create(w);
                nuint row = (nuint)(first + j * stride);
                for (int u = 0; u < n; u++) acc[u] = Vector512.FusedMultiplyAdd(pv, Vector512.LoadUnsafe(ref vr, row + (nuint)(u * 16)), acc[u]);
            }
            for (int u = 0; u < n; u++) acc[u].CopyTo(o.Slice(u * 16, 16));
            return sum;
        }
        o.Clear();
        for (int j = 0; j < end; j++)
            if (p[j] != 0f) TensorPrimitives.MultiplyAdd(v.AsSpan(first + j * stride, D), p[j], o, o);
        return sum;
    }

    private void BackwardRows(float[] q, int qo, float[] k, int ko, float[] v, int vo, float[] o, int oo, float[] lse, float[] dout, int go,
        float[]? dq, int dqo, float[]? dk, int dko, float[]? dv, int dvo)
    {
        int qRow = H * D, kRow = KVH * D;
        WorkerPool.Current.For(B * KVH, item =>
        {
            int b = item / KVH, kvh = item % KVH;
            for (int h = kvh * Group; h < (kvh + 1) * Group; h++)
                for (int t = 0; t < Tq; t++)
                {
                    float l = lse[(b * H + h) * Tq + t];
                    if (float.IsNegativeInfinity(l)) continue;
                    int qOff = (b * Tq + t) * qRow + h * D;
                    var qi = q.AsSpan(qo + qOff, D);
                    var gi = dout.AsSpan(go + qOff, D);
                    float delta = Elementwise.Dot(gi, o.AsSpan(oo + qOff, D));
                    var dqi = dq is null ? default : dq.AsSpan(dqo + qOff, D);
                    int end = KeyEnd(t);
                    for (int j = 0; j < end; j++)
                    {
                        if (!KeyAllowed(b, j)) continue;
                        int kOff = (b * KvCapacity + j) * kRow + kvh * D;
                        var kj = k.AsSpan(ko + kOff, D);
                        float p = MathF.Exp(Elementwise.Dot(qi, kj) * Scale - l);
                        if (dv is not null) TensorPrimitives.MultiplyAdd(gi, p, dv.AsSpan(dvo + kOff, D), dv.AsSpan(dvo + kOff, D));
                        float ds = p * (Elementwise.Dot(gi, v.AsSpan(vo + kOff, D)) - delta) * Scale;
                        if (dq is not null) TensorPrimitives.MultiplyAdd(kj, ds, dqi, dqi);
                        if (dk is not null) TensorPrimitives.MultiplyAdd(qi, ds, dk.AsSpan(dko + kOff, D), dk.AsSpan(dko + kOff, D));
                    }
                }
        });
    }
}
