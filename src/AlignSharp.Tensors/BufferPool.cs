namespace AlignSharp.Tensors;

/// <summary>
/// Recycles float buffers so a training step of a fixed shape allocates nothing large after
/// its first run. Buffers are pinned (pinned object heap) so kernels can take raw pointers
/// without fixing them, and rounded up to size classes (powers of two and their 1.5×) so
/// shapes that vary a little still reuse buffers. Buffers are handed back explicitly by
/// <see cref="TensorScope"/> or <see cref="Tensor.Dispose"/>; nothing relies on finalizers.
/// </summary>
public static class BufferPool
{
    private static readonly Dictionary<int, Stack<float[]>> Free = new();
    private static readonly object Gate = new();
    private static long _pooledBytes;

    /// <summary>Bytes currently parked in the pool, free for reuse.</summary>
    public static long PooledBytes => Interlocked.Read(ref _pooledBytes);

    /// <summary>Rents a buffer of at least <paramref name="length"/> floats. Contents are undefined unless <paramref name="zero"/>.</summary>
    public static float[] Rent(int length, bool zero)
    {
        int size = SizeClass(length);
        float[]? buffer = null;
        lock (Gate)
        {
            if (Free.TryGetValue(size, out var stack) && stack.Count > 0)
            {
                buffer = stack.Pop();
                _pooledBytes -= (long)size * sizeof(float);
            }
        }
        buffer ??= GC.AllocateUninitializedArray<float>(size, pinned: true);
        if (zero) Array.Clear(buffer, 0, length);
        return buffer;
    }


    /// <summary>Returns a buffer obtained from <see cref="Rent"/>.</summary>
    public static void Return(float[] buffer)
    {
        if (buffer.Length != SizeClass(buffer.Length)) throw new ArgumentException("buffer was not rented from BufferPool", nameof(buffer));
        lock (Gate)
        {
            if (!Free.TryGetValue(buffer.Length, out var stack)) Free[buffer.Length] = stack = new Stack<float[]>();
            stack.Push(buffer);
            _pooledBytes += (long)buffer.Length * sizeof(float);
        }
    }

    /// <summary>Drops every free buffer so the GC can reclaim the memory.</summary>
    public static void Trim()
    {
        lock (Gate)
        {
            Free.Clear();
            _pooledBytes = 0;
        }
    }

    internal static int SizeClass(int length)
    {
        if (length <= 16) return 16;
        // pow is the largest power of two below length, so the class is pow·1.5 or pow·2.
        int pow = 1 << (31 - (int)uint.LeadingZeroCount((uint)(length - 1)));
        int mid = pow + (pow >> 1);
        if (mid >= length) return mid;
        return pow >= 1 << 30 ? int.MaxValue - 64 : pow << 1;
    }
}
