using AlignSharp.Tensors.Kernels;

namespace AlignSharp.Tensors;

public static partial class Ops
{
    /// <summary>
    /// softmax(Q·Kᵀ·scale + mask)·V for q [B, Tq, H, D] and k, v [B, Tk, KVH, D] (multi-head when KVH = H,
    /// grouped-query when KVH divides H) → [B, Tq, H, D]. <paramref name="keyMask"/> [B, Tk] (1 keep, 0 pad)
    /// masks padded keys; <paramref name="causal"/> lets query t see keys j ≤ t + (Tk − Tq). The default
    /// scale is 1/√D. A fused, tiled kernel: no T×T matrix is stored in forward or backward.
    /// </summary>
    public static Tensor ScaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor? keyMask = null, bool causal = true, float? scale = null)
    {
        q = q.Contiguous(); k = k.Contiguous(); v = v.Contiguous(); keyMask = keyMask?.Contiguous();
        const string op = "attention";
        if (q.Rank != 4 || k.Rank != 4 || v.Rank != 4)
            throw new ArgumentException($"{op}: q, k, v must be [B, T, heads, D], got [{ShapeUtil.Format(q.Shape)}], [{ShapeUtil.Format(k.Shape)}], [{ShapeUtil.Format(v.Shape)}]");
        int b = q.Dim(0), tq = q.Dim(1), h = q.Dim(2), d = q.Dim(3), tk = k.Dim(1), kvh = k.Dim(2);
        if (!k.Shape.SequenceEqual(v.Shape) || k.Dim(0) != b || k.Dim(3) != d)
            throw new ArgumentException($"{op}: k [{ShapeUtil.Format(k.Shape)}] and v [{ShapeUtil.Format(v.Shape)}] must both be [{b}, Tk, KVH, {d}] to fit q [{ShapeUtil.Format(q.Shape)}]");
        if (kvh == 0 || h % kvh != 0)
            throw new ArgumentException($"{op}: the number of key/value heads must divide the number of query heads (got {kvh} and {h})");
        if (causal && tk < tq)
            throw new ArgumentException($"{op}: causal attention needs at least as many keys as queries (got {tk} keys, {tq} queries)");
        if (keyMask is not null && (keyMask.Rank != 2 || keyMask.Dim(0) != b || keyMask.Dim(1) != tk))
            throw new ArgumentException($"{op}: key mask [{ShapeUtil.Format(keyMask.Shape)}] must be [{b}, {tk}]");

        var kernel = new FlashAttention
        {
            B = b, Tq = tq, Tk = tk, H = h, KVH = kvh, D = d, Causal = causal,
            Scale = scale ?? 1f / MathF.Sqrt(d),
            KeyMask = keyMask?.ToArray(),
        };
        var y = Tensor.Uninitialized(q.ShapeArray.ToArray());
        var lse = new float[b * h * tq];
        kernel.Forward(q.Data, q.Offset, k.Data, k.Offset, v.Data, v.Offset, y.Data, y.Offset, lse);
        if (!Autograd.ShouldRecord(q, k, v)) return y;
        y.SetBackward(op, [q, k, v], () =>
        {
            var g = y.Grad!;
            if (q.RequiresGrad) q.GradSpan();
            if (k.RequiresGrad) k.GradSpan();
            if (v.RequiresGrad) v.GradSpan();
            kernel.Backward(q.Data, q.Offset, k.Data, k.Offset, v.Data, v.Offset, y.Data, y.Offset, lse, g.Data, g.Offset,
                q.Grad?.Data, q.Grad?.Offset ?? 0, k.Grad?.Data, k.Grad?.Offset ?? 0, v.Grad?.Data, v.Grad?.Offset ?? 0);
        });
        return y;
    }

    /// <summary>
    /// Causal attention of new queries against a KV cache, for incremental decoding (no gradient):
    /// q [B, Tq, H, D]; <paramref name="keyCache"/>, <paramref name="valueCache"/> [B, capacity, KVH, D]
    /// whose first <paramref name="length"/> positions are filled, the last Tq of them with this step's keys.
    /// <paramref name="keyMask"/> [B, length] masks padded positions (left-padded batches).
    /// </summary>
    public static Tensor CachedAttention(Tensor q, Tensor keyCache, Tensor valueCache, int length, Tensor? keyMask = null, float? scale = null)
    {
        q = q.Contiguous();
        const string op = "cached_attention";
        if (Autograd.ShouldRecord(q, keyCache, valueCache))
            throw new InvalidOperationException($"{op}: the KV-cache path is for inference; run it under Autograd.NoGrad() or use ScaledDotProductAttention for training");
        if (q.Rank != 4 || keyCache.Rank != 4 || !keyCache.Shape.SequenceEqual(valueCache.Shape))
            throw new ArgumentException($"{op}: q must be [B, T, H, D] and the caches [B, capacity, KVH, D], got [{ShapeUtil.Format(q.Shape)}], [{ShapeUtil.Format(keyCache.Shape)}], [{ShapeUtil.Format(valueCache.Shape)}]");
        int b = q.Dim(0), tq = q.Dim(1), h = q.Dim(2), d = q.Dim(3), capacity = keyCache.Dim(1), kvh = keyCache.Dim(2);
        if (keyCache.Dim(0) != b || keyCache.Dim(3) != d || kvh == 0 || h % kvh != 0)
            throw new ArgumentException($"{op}: cache [{ShapeUtil.Format(keyCache.Shape)}] does not fit q [{ShapeUtil.Format(q.Shape)}] (batch and head size must match, KV heads must divide {h})");
        if (length < tq || length > capacity)
            throw new ArgumentException($"{op}: cache length {length} must be between the {tq} new positions and the capacity {capacity}");
        if (keyMask is not null && (keyMask.Rank != 2 || keyMask.Dim(0) != b || keyMask.Dim(1) != length))
            throw new ArgumentException($"{op}: key mask [{ShapeUtil.Format(keyMask.Shape)}] must be [{b}, {length}]");
        var kernel = new FlashAttention
        {
            B = b, Tq = tq, Tk = length, H = h, KVH = kvh, D = d, Causal = true,
            Scale = scale ?? 1f / MathF.Sqrt(d), KeyMask = keyMask?.ToArray(), KvCapacity = capacity,
        };
        var y = Tensor.Uninitialized(q.ShapeArray.ToArray());
        kernel.Forward(q.Data, q.Offset, keyCache.Data, keyCache.Offset, valueCache.Data, valueCache.Offset, y.Data, y.Offset, new float[b * h * tq]);
        return y;
    }
}
