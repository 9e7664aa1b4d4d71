namespace AlignSharp.Models.Checkpoints;

/// <summary>
/// Writes a file under a temporary name in the same folder, flushes it to disk, then renames it over
/// the target, so a crash leaves either the old file or the complete new one, never half of one.
/// </summary>
public static class AtomicFile
{
    /// <summary>Suffix of in-progress files; a crash can leave one behind, which the next checkpoint save removes.</summary>
    public const string TempSuffix = ".partial";

    /// <summary>Writes <paramref name="text"/> (UTF-8, no BOM) to <paramref name="path"/> whole or not at all.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, stream => stream.Write(new System.Text.UTF8Encoding(false).GetBytes(text)));

    public static void Write(string path, Action<FileStream> write)
    {
        string temp = $"{path}.{Guid.NewGuid():N}{TempSuffix}";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
    }
}
