using System.Text.Json;
using AlignSharp.Feedback.Store;

namespace AlignSharp.Training.Data;

/// <summary>
/// Writes a <c>.jsonl</c> file atomically: one compact JSON object per line, UTF-8 without a byte-order mark,
/// non-ASCII text as itself (not <c>\u</c> escapes), into a hidden temporary file beside the target that
/// <see cref="Commit"/> flushes to disk and renames over the target. A process killed before the rename leaves the
/// previous file (or none) — never half a file; disposing without committing deletes the temporary file.
/// </summary>
/// <example>
/// <code>
/// using var file = new JsonlFileWriter("out/labels.jsonl");
/// foreach (var x in items) file.WriteLine(w => { w.WriteStartObject(); w.WriteString("id", x.Id); w.WriteEndObject(); });
/// file.Commit();
/// </code>
/// </example>
public sealed class JsonlFileWriter : IDisposable
{
    readonly FileStream _stream;
    readonly Utf8JsonWriter _json;
    readonly string _temporary;
    bool _done;

    /// <param name="path">The file to write; its folder must exist. An existing file is replaced on <see cref="Commit"/>.</param>
    /// <exception cref="TrainingException">The folder is missing or not writable.</exception>
    public JsonlFileWriter(string path)
    {
        Path = path;
        string folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        if (!Directory.Exists(folder)) throw new TrainingException($"{path}: folder {folder} does not exist; create it or write elsewhere");
        if (Directory.Exists(path)) throw new TrainingException($"{path}: is a folder; give a file name");
        _temporary = System.IO.Path.Combine(folder, $".{System.IO.Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try { _stream = new FileStream(_temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TrainingException($"{path}: cannot write in {folder} ({e.Message}); make the folder writable or write elsewhere");
        }
        _json = new Utf8JsonWriter(_stream, PromptJson.WriterOptions);
    }

    /// <summary>The target file, as given.</summary>
    public string Path { get; }

    /// <summary>Lines written so far.</summary>
    public int Count { get; private set; }

    /// <summary>Writes one line: <paramref name="write"/> must write exactly one JSON value (an object).</summary>
    public void WriteLine(Action<Utf8JsonWriter> write)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        write(_json);
        _json.Flush();
        _json.Reset();
        _stream.WriteByte((byte)'\n');
        Count++;
    }

    /// <summary>Flushes the lines to disk and renames the temporary file over <see cref="Path"/>; returns <see cref="Count"/>.</summary>
    public int Commit()
    {
        ObjectDisposedException.ThrowIf(_done, this);
        _done = true;
        _json.Dispose();
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        try { File.Move(_temporary, Path, overwrite: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete();
            throw new TrainingException($"{Path}: cannot replace the file ({e.Message}); check that it is not a folder and is writable");
        }
        return Count;
    }

    /// <summary>Deletes the temporary file unless <see cref="Commit"/> ran.</summary>
    public void Dispose()
    {
        if (_done) return;
        _done = true;
        _json.Dispose();
        _stream.Dispose();
        TryDelete();
    }

    void TryDelete()
    {
        try { File.Delete(_temporary); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
