namespace AlignSharp.Training.Core;

/// <summary>
/// A fresh run owns its output_dir: checkpoints, metrics and the model left there by another run would be mixed
/// with its own (kept checkpoints, appended metrics, a later resume returning the other run's model), so a fresh
/// run into a non-empty folder is refused unless overwrite_output_dir clears it first.
/// </summary>
public static class OutputDirectory
{
    /// <summary>
    /// Makes <paramref name="outputDir"/> an empty folder: refuses one with files unless <paramref name="overwrite"/>,
    /// which deletes them, but never when one of the run's <paramref name="inputs"/> (model folder, dataset...) lies in it.
    /// </summary>
    public static void PrepareFresh(string outputDir, bool overwrite, IEnumerable<string?> inputs)
    {
        if (Directory.Exists(outputDir) && Directory.EnumerateFileSystemEntries(outputDir).Any())
        {
            if (!overwrite)
                throw new TrainingException($"{outputDir}: output_dir already holds files (checkpoints, metrics or a model of an earlier run); " +
                    "set overwrite_output_dir: true to delete them and start clean, resume: true to continue that run, or choose a new output_dir");
            string root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outputDir)) + Path.DirectorySeparatorChar;
            foreach (var input in inputs)
                if (!string.IsNullOrEmpty(input) && (Path.GetFullPath(input) + Path.DirectorySeparatorChar).StartsWith(root, StringComparison.Ordinal))
                    throw new TrainingException($"{outputDir}: overwrite_output_dir would delete {input}, which this run reads; choose another output_dir");
            foreach (var dir in Directory.EnumerateDirectories(outputDir)) Directory.Delete(dir, true);
            foreach (var file in Directory.EnumerateFiles(outputDir)) File.Delete(file);
        }
        Directory.CreateDirectory(outputDir);
    }
}
