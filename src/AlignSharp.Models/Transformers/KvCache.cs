using AlignSharp.Tensors;

namespace AlignSharp.Models.Transformers;

/// <summary>
/// Keys and values of every layer for incremental decoding: per layer [B, Capacity, KVH, D], of which the
/// first <see cref="Length"/> positions are filled. <see cref="KeyMask"/> [B, Capacity] marks real (1) and
/// padded (0) positions, so left-padded prompts of different lengths decode in one batch.
/// The buffers live outside any <see cref="TensorScope"/> and go back to the pool on <see cref="Dispose"/>.
/// </summary>
public sealed class KvCache : IDisposable
{
    public int Batch { get; }
    public int Capacity { get; }
    public int Length { get; internal set; }
    internal Tensor[] Keys { get; }
    internal Tensor[] Values { get; }
    internal float[] KeyMask { get; }

    public KvCache(ModelConfig config, int batch, int capacity)
    {
        if (capacity <= 0 || batch <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), $"KV cache needs a positive batch and capacity (got {batch}, {capacity})");
        Batch = batch; Capacity = capacity;
        Keys = new Tensor[config.NumLayers]; Values = new Tensor[config.NumLayers];
        for (int l = 0; l < config.NumLayers; l++)
        {
            Keys[l] = Tensor.Parameter(batch, capacity, config.NumKvHeads, config.HeadDim);
            Values[l] = Tensor.Parameter(batch, capacity, config.NumKvHeads, config.HeadDim);
            Keys[l].RequiresGrad = false; Values[l].RequiresGrad = false;
        }
        KeyMask = new float[batch * capacity];
    }

    /// <summary>Marks positions [Length, Length + count) of each batch row as real or padding.</summary>
    internal void MarkPositions(int count, float[]? mask)
    {
        for (int b = 0; b < Batch; b++)
            for (int t = 0; t < count; t++)
                KeyMask[b * Capacity + Length + t] = mask is null ? 1f : mask[b * count + t];
    }

    /// <summary>The key mask of the filled positions, [B, length]; null when every position is real (no padding to skip).</summary>
    internal Tensor? MaskFor(int length)
    {
        bool padded = false;
        for (int b = 0; b < Batch && !padded; b++) padded = KeyMask.AsSpan(b * Capacity, length).Contains(0f);
        if (!padded) return null;
        var m = Tensor.Zeros(Batch, length);
        var s = m.Span;
        for (int b = 0; b < Batch; b++) KeyMask.AsSpan(b * Capacity, length).CopyTo(s.Slice(b * length, length));
        return m;
    }

    /// <summary>Drops the cached positions (the buffers are kept for reuse).</summary>
    public void Clear() { Length = 0; Array.Clear(KeyMask); }

    public void Dispose()
    {
        foreach (var t in Keys) t.Dispose();
        foreach (var t in Values) t.Dispose();
    }
}
