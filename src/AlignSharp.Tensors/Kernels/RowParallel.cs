namespace AlignSharp.Tensors.Kernels;

/// <summary>Splits independent rows into chunks over the worker pool when the work is large enough to pay for it.</summary>
internal static class RowParallel
{
    private const long MinParallelWork = 1 << 15;

    /// <summary>Calls <paramref name="body"/>(start, end) on disjoint row ranges covering [0, rows).</summary>
    public static void For(int rows, long workPerRow, Action<int, int> body)
    {
        var pool = WorkerPool.Current;
        if (rows <= 1 || pool.Threads == 1 || rows * workPerRow < MinParallelWork)
        {
            body(0, rows);
            return;
        }
        int chunks = Math.Min(rows, pool.Threads * 4);
        pool.For(chunks, c =>
        {
            int start = (int)((long)rows * c / chunks), end = (int)((long)rows * (c + 1) / chunks);
            body(start, end);
        });
    }
}
