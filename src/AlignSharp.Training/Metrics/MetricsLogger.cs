namespace AlignSharp.Training.Metrics;

/// <summary>Sends each step's scalars to every sink (event file, JSONL…) and keeps the recent values per tag for console display.</summary>
/// <remarks>
/// The logger owns its sinks: disposing it disposes them. Each tag keeps its last <c>historyCapacity</c> values, so
/// <see cref="Averages"/> smooths noisy per-step losses for a progress line without re-reading the files.
/// Non-finite values are kept: a NaN loss makes its average NaN, which is what a console should show.
/// </remarks>
public sealed class MetricsLogger : IMetricsSink
{
    /// <summary>Values kept per tag when no capacity is given.</summary>
    public const int DefaultHistoryCapacity = 1000;

    readonly IMetricsSink[] sinks;
    readonly int historyCapacity;
    readonly Dictionary<string, Queue<double>> history = new(StringComparer.Ordinal);
    readonly Dictionary<string, double> last = new(StringComparer.Ordinal);
    readonly Lock gate = new();
    bool disposed;

    /// <summary>A logger over <paramref name="sinks"/> keeping <see cref="DefaultHistoryCapacity"/> values per tag; no sinks is allowed (console averages only).</summary>
    public MetricsLogger(params IMetricsSink[] sinks) : this(sinks, DefaultHistoryCapacity) { }

    /// <summary>A logger over <paramref name="sinks"/> keeping the last <paramref name="historyCapacity"/> values per tag.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="historyCapacity"/> is below 1.</exception>
    public MetricsLogger(IReadOnlyList<IMetricsSink> sinks, int historyCapacity)
    {
        ArgumentNullException.ThrowIfNull(sinks);
        ArgumentOutOfRangeException.ThrowIfLessThan(historyCapacity, 1);
        this.sinks = [.. sinks];
        this.historyCapacity = historyCapacity;
    }

    /// <summary>
    /// The metrics files of a training run in <paramref name="outputDir"/>: metrics.jsonl and TensorBoard event files
    /// under logs/, both cut back to the checkpoint's step when <paramref name="start"/> resumes one.
    /// </summary>
    public static MetricsLogger ForRun(string outputDir, Core.RunStart start) =>
        new(new TensorBoardWriter(Path.Combine(outputDir, "logs"), start.TruncateMetricsAfter), new JsonlMetricsWriter(outputDir, start.TruncateMetricsAfter));

    /// <summary>The step of the latest <see cref="Log"/>, or null before the first.</summary>
    public long? LastStep { get; private set; }

    /// <summary>The latest value of every tag seen so far (a snapshot).</summary>
    public IReadOnlyDictionary<string, double> Last
    {
        get
        {
            lock (gate) return new Dictionary<string, double>(last, StringComparer.Ordinal);
        }
    }

    /// <summary>The mean of each tag's last <paramref name="window"/> logged values (fewer if fewer were logged).</summary>
    /// <param name="window">How many recent values to average, 1 to the history capacity.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="window"/> is below 1 or above the history capacity.</exception>
    public IReadOnlyDictionary<string, double> Averages(int window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(window, historyCapacity);
        lock (gate)
        {
            var averages = new Dictionary<string, double>(history.Count, StringComparer.Ordinal);
            foreach (var (tag, values) in history)
            {
                int count = Math.Min(window, values.Count);
                averages[tag] = values.Skip(values.Count - count).Sum() / count;
            }
            return averages;
        }
    }

    /// <inheritdoc/>
    public void Log(long step, IReadOnlyDictionary<string, double> scalars)
    {
        ArgumentNullException.ThrowIfNull(scalars);
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            foreach (var (tag, value) in scalars)
            {
                if (!history.TryGetValue(tag, out var values)) history[tag] = values = new Queue<double>();
                if (values.Count == historyCapacity) values.Dequeue();
                values.Enqueue(value);
                last[tag] = value;
            }
            LastStep = step;
            foreach (var sink in sinks) sink.Log(step, scalars);
        }
    }

    /// <inheritdoc/>
    public void Flush()
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            foreach (var sink in sinks) sink.Flush();
        }
    }

    /// <summary>Disposes every sink, even when one of them throws.</summary>
    /// <exception cref="AggregateException">One or more sinks failed to close.</exception>
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed) return;
            disposed = true;
            List<Exception>? failures = null;
            foreach (var sink in sinks)
            {
                try { sink.Dispose(); }
                catch (Exception e) { (failures ??= []).Add(e); }
            }
            if (failures is not null) throw new AggregateException("closing metrics sinks failed", failures);
        }
    }
}
