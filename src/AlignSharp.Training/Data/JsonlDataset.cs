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
        foreach (string line in File.ReadLines(Path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            DatasetRow row;
            try
            {
                row = RowParser.Parse(line, Path, lineNumber, Kind);
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
}
