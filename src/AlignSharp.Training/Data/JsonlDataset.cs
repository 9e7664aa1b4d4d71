using System.Collections;

namespace AlignSharp.Training.Data;

/// <summary>
/// A TRL-format <c>.jsonl</c> file, read lazily one line at a time. The kind is the expected kind when one is given,
/// otherwise the kind announced by the keys of the first valid row; every later row must be of that kind.
/// </summary>
/// <remarks>
/// Blank lines are skipped silently. A malformed row (invalid JSON, a missing or ill-typed key, an empty message list, a
/// role other than system/user/assistant/tool, a row of another kind) throws <see cref="TrainingException"/> naming
/// <c>file:line</c>, the key and the fix — or, with <c>skipBadRows</c>, is skipped and counted in
/// <see cref="SkippedRows"/>, the first <see cref="MaxSkipReasons"/> messages kept in <see cref="SkipReasons"/>.
/// Counts describe the most recent enumeration (each enumeration re-reads the file and starts them again).
/// </remarks>
/// <example>
/// <code>
/// var data = new JsonlDataset("data/train.jsonl", DatasetKind.Preference, skipBadRows: true);
/// var rows = data.ToList();   // or foreach, streaming
/// Console.WriteLine($"{rows.Count} rows, {data.SkippedRows} skipped: {string.Join("; ", data.SkipReasons)}");
/// </code>
/// </example>
public sealed class JsonlDataset : IEnumerable<DatasetRow>
{
    /// <summary>How many skip reasons <see cref="SkipReasons"/> keeps.</summary>
    public const int MaxSkipReasons = 5;

    readonly DatasetKind? _expected;
    readonly List<string> _skipReasons = [];

    /// <param name="path">The .jsonl file; error messages name it as given.</param>
    /// <param name="expectedKind">The kind every row must have; null detects it from the first valid row.</param>
    /// <param name="skipBadRows">Skip and count malformed rows instead of throwing.</param>
    public JsonlDataset(string path, DatasetKind? expectedKind = null, bool skipBadRows = false)
    {
        Path = path;
        _expected = expectedKind;
        Kind = expectedKind;
        SkipBadRows = skipBadRows;
    }

    /// <summary>The file, as given.</summary>
    public string Path { get; }

    /// <summary>Whether malformed rows are skipped (true) or throw (false).</summary>
    public bool SkipBadRows { get; }

    /// <summary>The rows' kind: the expected kind, or the detected one once a valid row has been read (null before).</summary>
    public DatasetKind? Kind { get; private set; }

    /// <summary>Malformed rows skipped by the latest enumeration.</summary>
    public int SkippedRows { get; private set; }

    /// <summary>The messages of the first <see cref="MaxSkipReasons"/> skipped rows (<c>file:line: reason</c>).</summary>
    public IReadOnlyList<string> SkipReasons => _skipReasons;

    /// <summary>Reads every row of <paramref name="path"/> into a list (throws on the first bad row).</summary>
    public static List<DatasetRow> ReadAll(string path, DatasetKind? expectedKind = null) => new JsonlDataset(path, expectedKind).ToList();

    /// <summary>The kind of the file's first valid row (reads only up to it).</summary>
    /// <exception cref="TrainingException">The file is missing or holds no valid row.</exception>
    public static DatasetKind DetectKind(string path)
    {
        var data = new JsonlDataset(path, skipBadRows: true);
        foreach (var row in data) return row.Kind;
        throw new TrainingException($"{path}: no valid rows{(data.SkipReasons.Count > 0 ? "; first problem: " + data.SkipReasons[0] : "")}");
    }

    /// <summary>Streams the rows.</summary>
    /// <exception cref="TrainingException">The file is missing, or a row is malformed and <see cref="SkipBadRows"/> is false.</exception>
    public IEnumerator<DatasetRow> GetEnumerator()
    {
        if (!File.Exists(Path)) throw new TrainingException($"{Path}: dataset file not found");
        Kind = _expected;
        SkippedRows = 0;
        _skipReasons.Clear();
        int lineNumber = 0;
        foreach (var bytes in ReadLineBytes(Path))
        {
            lineNumber++;
            DatasetRow row;
            try
            {
                string line = Decode(bytes, Path, lineNumber);
                if (string.IsNullOrWhiteSpace(line)) continue;
                row = ParseRow(line, lineNumber);
            }
            catch (TrainingException e) when (SkipBadRows)
            {
                SkippedRows++;
                if (_skipReasons.Count < MaxSkipReasons) _skipReasons.Add(e.Message);
                continue;
            }
            Kind ??= row.Kind;
            yield return row;
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    DatasetRow ParseRow(string line, int lineNumber)
    {
        try { return RowParser.Parse(line, Path, lineNumber, Kind); }
        catch (InvalidOperationException)
        {
            // JsonElement.GetString throws this for a string holding an unpaired surrogate escape such as "\ud800".
            throw new TrainingException($"{Path}:{lineNumber}: a string holds an unpaired UTF-16 surrogate escape (\\ud800-\\udfff); fix or remove it");
        }
    }

    /// <summary>
    /// The file's lines as bytes (without '\n' and a trailing '\r'), so that each can be checked for UTF-8 on its own:
    /// File.ReadLines would silently turn invalid bytes into U+FFFD and train on the replacement characters.
    /// </summary>
    static IEnumerable<byte[]> ReadLineBytes(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var line = new List<byte>();
        var buffer = new byte[1 << 16];
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            for (int i = 0; i < read; i++)
            {
                if (buffer[i] != (byte)'\n') { line.Add(buffer[i]); continue; }
                yield return TrimCarriageReturn(line);
                line.Clear();
            }
        }
        if (line.Count > 0) yield return TrimCarriageReturn(line);
    }

    static byte[] TrimCarriageReturn(List<byte> line) =>
        line.Count > 0 && line[^1] == (byte)'\r' ? line.GetRange(0, line.Count - 1).ToArray() : line.ToArray();

    /// <summary>Decodes one line (dropping a UTF-8 byte-order mark on line 1); invalid UTF-8 names the line and the byte.</summary>
    static string Decode(byte[] bytes, string path, int lineNumber)
    {
        ReadOnlySpan<byte> span = bytes;
        if (lineNumber == 1 && span.StartsWith("\uFEFF"u8)) span = span[3..];
        var chars = new char[span.Length];
        var status = System.Text.Unicode.Utf8.ToUtf16(span, chars, out int bytesRead, out int charsWritten, replaceInvalidSequences: false);
        if (status != System.Buffers.OperationStatus.Done)
            throw new TrainingException(
                $"{path}:{lineNumber}: not valid UTF-8 (byte 0x{span[bytesRead]:X2} at column {bytesRead + 1}); save the file as UTF-8");
        return new string(chars, 0, charsWritten);
    }
}
