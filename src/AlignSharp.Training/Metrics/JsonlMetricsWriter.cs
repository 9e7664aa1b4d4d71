using AlignSharp.Models.Checkpoints;
using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AlignSharp.Training.Metrics;

/// <summary>Appends one JSON object per step to <c>metrics.jsonl</c>: <c>{"step": N, "time": "…Z", "&lt;tag&gt;": value, …}</c>.</summary>
/// <remarks>
/// <para>
/// Keys are <c>step</c>, then <c>time</c> (UTC, ISO 8601 round-trip format), then the tags in ordinal order; numbers
/// are written in shortest round-trip form, so a double reads back bit-exact (unlike the float32 event file).
/// </para>
/// <para>
/// JSON has no NaN or infinity. Non-finite values are written as the strings <c>"NaN"</c>, <c>"Infinity"</c> and
/// <c>"-Infinity"</c> rather than <c>null</c>, so a diverged loss stays distinguishable from a missing one; these are
/// the literals <see cref="System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals"/> reads
/// back as doubles, and that Python's <c>float()</c> accepts.
/// </para>
/// <para>
/// The file is opened for append, so a resumed run continues the same file; a resumed run redoes the steps after its
/// checkpoint, so it first drops the lines after that step (<see cref="DropRecordsAfter"/>) and every step appears once. Each line is written with one call and
/// flushed; if a killed run left a partial last line, a newline is added first so later lines stay parseable.
/// </para>
/// </remarks>
public sealed class JsonlMetricsWriter : IMetricsSink
{
    /// <summary>The file name inside the log folder.</summary>
    public const string FileName = "metrics.jsonl";

    static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    readonly FileStream stream;
    readonly Func<DateTimeOffset> clock;
    readonly ArrayBufferWriter<byte> line = new();
    readonly Lock gate = new();
    bool disposed;

    /// <summary>Creates the log folder if needed and opens <c>metrics.jsonl</c> in it for append.</summary>
    /// <param name="logDirectory">The run's folder.</param>
    public JsonlMetricsWriter(string logDirectory) : this(logDirectory, () => DateTimeOffset.UtcNow) { }

    /// <summary>As <see cref="JsonlMetricsWriter(string)"/>; for a resumed run (<paramref name="truncateAfterStep"/> set), first drops the lines after that step.</summary>
    public JsonlMetricsWriter(string logDirectory, long? truncateAfterStep) : this(DroppingAfter(logDirectory, truncateAfterStep), () => DateTimeOffset.UtcNow) { }

    static string DroppingAfter(string logDirectory, long? step)
    {
        if (step is long s) DropRecordsAfter(logDirectory, s);
        return logDirectory;
    }

    /// <summary>
    /// Rewrites <c>metrics.jsonl</c> in <paramref name="logDirectory"/> without the lines of steps after
    /// <paramref name="step"/> (and without lines that do not parse, such as a partial last line of a killed run),
    /// replacing the file atomically.
    /// </summary>
    public static void DropRecordsAfter(string logDirectory, long step)
    {
        string path = Path.Combine(logDirectory, FileName);
        if (!File.Exists(path)) return;
        var lines = File.ReadAllLines(path);
        var kept = lines.Where(l => StepOf(l) is long s && s <= step).ToList();
        if (kept.Count == lines.Length) return;
        AtomicFile.WriteAllText(path, string.Concat(kept.Select(l => l + "\n")));
    }

    static long? StepOf(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("step", out var s) && s.TryGetInt64(out long step) ? step : null;
        }
        catch (JsonException) { return null; }
    }

    /// <summary>As the public constructor, with the clock injected for deterministic tests.</summary>
    internal JsonlMetricsWriter(string logDirectory, Func<DateTimeOffset> clock)
    {
        this.clock = clock;
        Directory.CreateDirectory(logDirectory);
        FilePath = Path.Combine(logDirectory, FileName);
        stream = new FileStream(FilePath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        TerminatePartialLine();
    }

    /// <summary>Full path of <c>metrics.jsonl</c>.</summary>
    public string FilePath { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A tag is empty or is <c>step</c> or <c>time</c>, which would duplicate a key.</exception>
    public void Log(long step, IReadOnlyDictionary<string, double> scalars)
    {
        ArgumentNullException.ThrowIfNull(scalars);
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            line.ResetWrittenCount();
            using (var json = new Utf8JsonWriter(line, Options))
            {
                json.WriteStartObject();
                json.WriteNumber("step", step);
                json.WriteString("time", clock().UtcDateTime);
                foreach (var (tag, value) in scalars.OrderBy(pair => pair.Key, StringComparer.Ordinal))
                {
                    if (tag is "" or "step" or "time")
                        throw new ArgumentException($"metric tag \"{tag}\" is empty or reserved in {FileName} (\"step\" and \"time\" are written for every line); rename it, e.g. \"train/{tag}\"", nameof(scalars));
                    if (double.IsFinite(value)) json.WriteNumber(tag, value);
                    else json.WriteString(tag, double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
                }
                json.WriteEndObject();
            }
            line.Write("\n"u8);
            stream.Write(line.WrittenSpan);
            stream.Flush();
        }
    }

    /// <inheritdoc/>
    public void Flush()
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            stream.Flush();
        }
    }

    /// <summary>Flushes and closes the file.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed) return;
            disposed = true;
            stream.Dispose();
        }
    }

    void TerminatePartialLine()
    {
        long length = stream.Length;
        if (length > 0)
        {
            stream.Position = length - 1;
            if (stream.ReadByte() != '\n')
            {
                stream.Position = length;
                stream.WriteByte((byte)'\n');
            }
        }
        stream.Position = stream.Length;
    }
}
