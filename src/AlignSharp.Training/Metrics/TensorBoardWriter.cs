using System.Globalization;

namespace AlignSharp.Training.Metrics;

/// <summary>Writes training scalars as a TensorBoard event file, readable by <c>tensorboard --logdir</c>.</summary>
/// <remarks>
/// <para>
/// The file is <c>events.out.tfevents.&lt;10-digit unix time&gt;.&lt;host&gt;</c> in the log folder: TFRecord frames
/// (<see cref="TfRecord"/>) holding protobuf <c>Event</c> messages (tensorflow/core/util/event.proto). The first is
/// <c>Event{wall_time=1, file_version=3: "brain.Event:2"}</c>; each <see cref="Log"/> adds
/// <c>Event{wall_time=1, step=2, summary=5{value=1{tag=1, simple_value=2}...}}</c> with the tags in ordinal order.
/// </para>
/// <para>
/// Messages are encoded as protobuf's proto3 serializer does: fields in number order, zero <c>wall_time</c> and
/// <c>step</c> left out, <c>simple_value</c> (a oneof member) always written. Values are stored as float32.
/// </para>
/// <para>
/// Every writer starts a new file and never appends to an old one: a resumed run adds a file to the same folder
/// and TensorBoard merges the files of a folder by step. A resumed run redoes the steps after its checkpoint, so it
/// first drops the older files' records after that step (<see cref="DropRecordsAfter"/>): every step then appears
/// once and curves stay monotone. Each <see cref="Log"/> is flushed to the operating system,
/// so a killed run keeps its curves.
/// </para>
/// </remarks>
public sealed class TensorBoardWriter : IMetricsSink
{
    /// <summary>The <c>file_version</c> of the first record, which TensorBoard checks.</summary>
    public const string FileVersion = "brain.Event:2";

    /// <summary>The prefix TensorBoard looks for when it scans a log folder.</summary>
    public const string FilePrefix = "events.out.tfevents.";

    readonly FileStream stream;
    readonly Func<double> clock;
    readonly Lock gate = new();
    bool disposed;

    /// <summary>Creates the log folder if needed and starts a new event file in it.</summary>
    /// <param name="logDirectory">The run's folder, the one passed to <c>tensorboard --logdir</c> (or a child of it).</param>
    public TensorBoardWriter(string logDirectory) : this(logDirectory, UnixSecondsNow, Environment.MachineName) { }

    /// <summary>As <see cref="TensorBoardWriter(string)"/>; for a resumed run (<paramref name="truncateAfterStep"/> set), first drops the folder's records after that step.</summary>
    public TensorBoardWriter(string logDirectory, long? truncateAfterStep) : this(DroppingAfter(logDirectory, truncateAfterStep), UnixSecondsNow, Environment.MachineName) { }

    static string DroppingAfter(string logDirectory, long? step)
    {
        if (step is long s) DropRecordsAfter(logDirectory, s);
        return logDirectory;
    }

    /// <summary>
    /// Rewrites each event file in <paramref name="logDirectory"/> without the records of steps after
    /// <paramref name="step"/> (the file_version record stays); a record cut short by a killed writer, and anything
    /// after it, is dropped too. Each file is replaced atomically (written beside it, then renamed over it).
    /// </summary>
    public static void DropRecordsAfter(string logDirectory, long step)
    {
        if (!Directory.Exists(logDirectory)) return;
        foreach (var path in Directory.EnumerateFiles(logDirectory, FilePrefix + "*").Where(p => !p.EndsWith(".tmp", StringComparison.Ordinal)).ToList())
        {
            var kept = new List<byte[]>();
            bool dropped = false;
            try
            {
                foreach (var (_, data) in TfRecord.ReadAll(path))
                {
                    if (StepOf(data) <= step) kept.Add(data);
                    else dropped = true;
                }
            }
            catch (TrainingException) { dropped = true; } // truncated or corrupt tail: keep the intact records before it
            if (!dropped) continue;
            string temp = path + ".tmp";
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
                foreach (var record in kept) TfRecord.Write(stream, record);
            File.Move(temp, path, overwrite: true);
        }
    }

    /// <summary>The Event's step (field 2; 0 when left out, as for the file_version record).</summary>
    static long StepOf(byte[] eventMessage)
    {
        var reader = new ProtobufReader(eventMessage);
        while (reader.Next())
            if (reader.Field == 2 && reader.WireType == 0) return (long)reader.Varint;
        return 0;
    }

    /// <summary>As the public constructor, with the wall clock (Unix seconds, read once per record) and host name injected for byte-exact tests.</summary>
    internal TensorBoardWriter(string logDirectory, Func<double> clock, string hostName)
    {
        this.clock = clock;
        Directory.CreateDirectory(logDirectory);
        double startTime = clock();
        (FilePath, stream) = CreateEventFile(logDirectory, startTime, hostName);
        var fileVersion = new ProtobufWriter();
        WallTime(fileVersion, startTime);
        fileVersion.String(3, FileVersion);
        TfRecord.Write(stream, fileVersion.ToArray());
        stream.Flush();
    }

    /// <summary>Full path of the event file being written.</summary>
    public string FilePath { get; }

    /// <inheritdoc/>
    public void Log(long step, IReadOnlyDictionary<string, double> scalars)
    {
        ArgumentNullException.ThrowIfNull(scalars);
        if (scalars.Count == 0) return;
        var summary = new ProtobufWriter();
        foreach (var (tag, value) in scalars.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            if (tag.Length == 0) throw new ArgumentException("metric tags must be non-empty", nameof(scalars));
            var entry = new ProtobufWriter();
            entry.String(1, tag);
            entry.Float(2, (float)value);
            summary.Bytes(1, entry.ToArray());
        }
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            var message = new ProtobufWriter();
            WallTime(message, clock());
            if (step != 0) message.Int64(2, step);
            message.Bytes(5, summary.ToArray());
            TfRecord.Write(stream, message.ToArray());
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

    /// <summary>Flushes and closes the event file.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed) return;
            disposed = true;
            stream.Dispose();
        }
    }

    static void WallTime(ProtobufWriter message, double wallTime)
    {
        if (wallTime != 0) message.Double(1, wallTime);
    }

    static double UnixSecondsNow() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;

    /// <summary>Opens a new file named after the start time; a second writer in the same second gets a <c>.1</c>, <c>.2</c>… suffix rather than appending.</summary>
    static (string Path, FileStream Stream) CreateEventFile(string logDirectory, double startTime, string hostName)
    {
        string seconds = ((long)Math.Floor(startTime)).ToString("D10", CultureInfo.InvariantCulture);
        string basePath = Path.Combine(logDirectory, $"{FilePrefix}{seconds}.{hostName}");
        for (int attempt = 0; ; attempt++)
        {
            string path = attempt == 0 ? basePath : $"{basePath}.{attempt}";
            if (File.Exists(path)) continue;
            try
            {
                return (path, new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read | FileShare.Delete));
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another writer created it between the check and the open; try the next suffix.
            }
        }
    }
}
