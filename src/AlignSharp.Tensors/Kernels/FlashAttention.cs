using System.Numerics.Tensors;

namespace AlignSharp.Tensors.Kernels;

/// <summary>
/// Scaled dot-product attention that never builds a T×T matrix: each query row computes its scores
/// into a row buffer, keeps only its log-sum-exp for the backward pass, and the backward pass
/// recomputes the probabilities row by row (Dao et al. 2022, FlashAttention, in its row-wise form).
/// Layouts: q [B, Tq, H, D]; k, v [B, Tk, KVH, D]; H a multiple of KVH (grouped-query attention:
/// query head h reads key/value head h / (H/KVH)). Query t sees key j when j ≤ t + (Tk − Tq) (causal
/// with a KV-cache offset) and the key mask allows j. A row that sees no key outputs zeros.
/// </summary>
internal sealed class FlashAttention
{
    public required int B, Tq, Tk, H, KVH, D;
    public required bool Causal;
    public required float Scale;
    public float[]? KeyMask;   // [B, Tk], 0 = masked

    private int Group => H / KVH;

    private int KeyEnd(int t) => Causal ? Math.Min(Tk, t + (Tk - Tq) + 1) : Tk;

    private bool KeyAllowed(int b, int j) => KeyMask is null || KeyMask[b * Tk + j] != 0f;

    /// <summary>Fills o and lse ([B, H, Tq]).</summary>
    public void Forward(float[] q, int qo, float[] k, int ko, float[] v, int vo, float[] o, int oo, float[] lse)
    {
        int qRow = H * D, kRow = KVH * D;
        WorkerPool.Default.For(B * H, item =>
        {
            int b = item / H, h = item % H, kvh = h / Group;
            var scores = new float[Tk];
            for (int t = 0; t < Tq; t++)
            {
                var qi = q.AsSpan(qo + (b * Tq + t) * qRow + h * D, D);
                var oi = o.AsSpan(oo + (b * Tq + t) * qRow + h * D, D);
                oi.Clear();
                int end = KeyEnd(t);
                float max = float.NegativeInfinity;
                for (int j = 0; j < end; j++)
                {
                    if (!KeyAllowed(b, j)) { scores[j] = float.NegativeInfinity; continue; }
                    float s = Elementwise.Dot(qi, k.AsSpan(ko + (b * Tk + j) * kRow + kvh * D, D)) * Scale;
                    scores[j] = s;
                    if (s > max) max = s;
                }
                if (float.IsNegativeInfinity(max)) { lse[(b * H + h) * Tq + t] = float.NegativeInfinity; continue; }
                float sum = 0f;
                for (int j = 0; j < end; j++)
                {
                    if (float.IsNegativeInfinity(scores[j])) continue;
                    float p = MathF.Exp(scores[j] - max);
                    sum += p;
                    TensorPrimitives.MultiplyAdd(v.AsSpan(vo + (b * Tk + j) * kRow + kvh * D, D), p, oi, oi);
                }
                TensorPrimitives.Multiply(oi, 1f / sum, oi);
                lse[(b * H + h) * Tq + t] = max + MathF.Log(sum);
            }
        });
    }

    /// <summary>
    /// Adds into dq, dk, dv (any may be null). With P = softmax(S), Δᵢ = dOᵢ·Oᵢ:
    /// dV_j += Σᵢ P_ij dOᵢ; dS_ij = P_ij (dOᵢ·V_j − Δᵢ); dQᵢ += scale Σⱼ dS_ij K_j; dK_j += scale Σᵢ dS_ij Qᵢ.
    /// Work is split by (batch, key/value head), so each item owns the dK/dV rows it writes.
    /// </summary>
    public void Backward(float[] q, int qo, float[] k, int ko, float[] v, int vo, float[] o, int oo, float[] lse, float[] dout, int go,
        float[]? dq, int dqo, float[]? dk, int dko, float[]? dv, int dvo)
    {
        int qRow = H * D, kRow = KVH * D;
        WorkerPool.Default.For(B * KVH, item =>
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
                        int kOff = (b * Tk + j) * kRow + kvh * D;
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
