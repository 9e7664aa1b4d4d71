namespace AlignSharp.Training.Metrics;

/// <summary>Reads TensorBoard event files back, for tests and tools; the inverse of <see cref="TensorBoardWriter"/>.</summary>
/// <remarks>
/// Both CRCs of every record are checked. Fields other than wall_time, step, file_version and the
/// <c>simple_value</c> summaries are skipped, so files written by TensorFlow or PyTorch also read
/// (their tensor-valued summaries are left out).
/// </remarks>
public static class TensorBoardReader
{
    /// <summary>Every event of the file, in file order.</summary>
    /// <param name="path">An <c>events.out.tfevents.*</c> file.</param>
    /// <exception cref="TrainingException">A record is truncated, fails a CRC check or is not a valid Event; the message names the file and byte offset.</exception>
    public static IReadOnlyList<TensorBoardEvent> ReadEvents(string path)
    {
        var events = new List<TensorBoardEvent>();
        foreach (var (offset, data) in TfRecord.ReadAll(path))
        {
            try
            {
                events.Add(DecodeEvent(offset, data));
            }
            catch (FormatException e)
            {
                throw new TrainingException($"{path}: offset {offset}: record is not a valid Event message ({e.Message})");
            }
        }
        return events;
    }

    /// <summary>Every scalar of the file as (step, tag, value), in file order.</summary>
    /// <param name="path">An <c>events.out.tfevents.*</c> file.</param>
    /// <exception cref="TrainingException">A record is truncated, fails a CRC check or is not a valid Event; the message names the file and byte offset.</exception>
    public static IReadOnlyList<TensorBoardScalar> ReadScalars(string path) =>
        [.. ReadEvents(path).SelectMany(e => e.Scalars)];

    static TensorBoardEvent DecodeEvent(long offset, byte[] data)
    {
        double wallTime = 0;
        long step = 0;
        string? fileVersion = null;
        var summaries = new List<byte[]>();
        var reader = new ProtobufReader(data);
        while (reader.Next())
        {
            switch (reader.Field, reader.WireType)
            {
                case (1, 1): wallTime = reader.AsDouble(); break;
                case (2, 0): step = (long)reader.Varint; break;
                case (3, 2): fileVersion = reader.AsString(); break;
                case (5, 2): summaries.Add(reader.Payload.ToArray()); break;
            }
        }
        var scalars = new List<TensorBoardScalar>();
        foreach (var summary in summaries) DecodeSummary(summary, step, wallTime, scalars);
        return new TensorBoardEvent(offset, wallTime, step, fileVersion, scalars);
    }

    static void DecodeSummary(ReadOnlySpan<byte> summary, long step, double wallTime, List<TensorBoardScalar> scalars)
    {
        var reader = new ProtobufReader(summary);
        while (reader.Next())
        {
            if (reader.Field != 1 || reader.WireType != 2) continue;
            string tag = "";
            float? value = null;
            var entry = new ProtobufReader(reader.Payload);
            while (entry.Next())
            {
                switch (entry.Field, entry.WireType)
                {
                    case (1, 2): tag = entry.AsString(); break;
                    case (2, 5): value = entry.AsFloat(); break;
                }
            }
            if (value is float v) scalars.Add(new TensorBoardScalar(step, tag, v, wallTime));
        }
    }
}
