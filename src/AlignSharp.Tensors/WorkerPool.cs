namespace AlignSharp.Tensors;

/// <summary>
/// A fixed set of worker threads that run the items of one parallel loop at a time.
/// Items are claimed dynamically, so every item must compute its result independently of
/// which thread runs it: that is what keeps results bitwise identical for a given thread count.
/// Nested calls (from inside an item) run inline on the calling thread.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    private static WorkerPool? _default;
    private static readonly object DefaultLock = new();

    /// <summary>The process-wide pool (what <see cref="Current"/> is unless overridden). Sized by <c>ALIGNSHARP_THREADS</c> or the processor count.</summary>
    public static WorkerPool Default
    {
        get
        {
            if (_default is not null) return _default;
            lock (DefaultLock)
            {
                if (_default is null)
                {
                    int n = Environment.ProcessorCount;
                    if (int.TryParse(Environment.GetEnvironmentVariable("ALIGNSHARP_THREADS"), out int env) && env > 0) n = env;
                    _default = new WorkerPool(n);
                }
                return _default;
            }
        }
    }

    /// <summary>Replaces the default pool (disposing the old one) with one of <paramref name="threads"/> threads.</summary>
    public static void SetDefaultThreads(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), $"thread count must be at least 1 (got {threads})");
        lock (DefaultLock)
        {
            if (_default is { } old && old.Threads == threads) return;
            var fresh = new WorkerPool(threads);
            var previous = _default;
            _default = fresh;
            previous?.Dispose();
        }
    }

    [ThreadStatic] private static bool _insideItem;
    [ThreadStatic] private static WorkerPool? _current;

    /// <summary>
    /// The pool the ops use on this thread: the one set by <see cref="Use"/>, otherwise <see cref="Default"/>.
    /// </summary>
    public static WorkerPool Current => _current ?? Default;

    /// <summary>
    /// Makes the ops called on this thread run on <paramref name="pool"/> until the returned scope is disposed
    /// (scopes nest). The caller keeps ownership of the pool. Results do not depend on the pool's size:
    /// kernels split work into independent rows or blocks and reduce across them in a fixed order.
    /// </summary>
    public static IDisposable Use(WorkerPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var scope = new Scope(_current);
        _current = pool;
        return scope;
    }

    private sealed class Scope(WorkerPool? previous) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            _current = previous;
        }
    }

    private readonly Thread[] _workers;
    private readonly object _runLock = new();
    private readonly object _signal = new();
    private Action<int>? _body;
    private int _count;
    private int _next;
    private int _busyWorkers;
    private long _generation;
    private volatile bool _disposed;
    private Exception? _error;

    /// <summary>Total threads that run items, the calling thread included.</summary>
    public int Threads { get; }

    public WorkerPool(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads));
        Threads = threads;
        _workers = new Thread[threads - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"alignsharp-worker-{i + 1}" };
            _workers[i].Start();
        }
    }

    /// <summary>Runs <paramref name="body"/>(i) for i in [0, count), spread over the pool's threads.</summary>
    public void For(int count, Action<int> body)
    {
        if (count <= 0) return;
        if (count == 1 || Threads == 1 || _insideItem)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        lock (_runLock)
        {
            _body = body;
            _count = count;
            _error = null;
            Volatile.Write(ref _next, 0);
            Volatile.Write(ref _busyWorkers, _workers.Length);
            lock (_signal)
            {
                _generation++;
                Monitor.PulseAll(_signal);
            }
            RunItems();
            var spin = new SpinWait();
            while (Volatile.Read(ref _busyWorkers) != 0) spin.SpinOnce(-1);
            _body = null;
            if (_error is { } e) throw new AggregateException("a parallel kernel item failed", e);
        }
    }

    private void RunItems()
    {
        var body = _body!;
        int count = _count;
        _insideItem = true;
        try
        {
            int i;
            while ((i = Interlocked.Increment(ref _next) - 1) < count) body(i);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _error, e, null);
            Volatile.Write(ref _next, count);
        }
        finally { _insideItem = false; }
    }

    private void WorkerLoop()
    {
        long seen = 0;
        while (true)
        {
            // Spin briefly for back-to-back kernels, then block.
            var spin = new SpinWait();
            for (int s = 0; s < 2000 && Volatile.Read(ref _generation) == seen && !_disposed; s++) spin.SpinOnce(-1);
            lock (_signal)
            {
                while (_generation == seen && !_disposed) Monitor.Wait(_signal);
                if (_disposed) return;
                seen = _generation;
            }
            RunItems();
            Interlocked.Decrement(ref _busyWorkers);
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        lock (_signal)
        {
            _disposed = true;
            Monitor.PulseAll(_signal);
        }
    }
}
