namespace AlignSharp.Training.Core;

/// <summary>
/// A fresh run owns its output_dir: checkpoints, metrics and the model left there by another run would be mixed
/// with its own (kept checkpoints, appended metrics, a later resume returning the other run's model), so a fresh
/// run into a non-empty folder is refused unless overwrite_output_dir clears it first.
/// </summary>
public static class OutputDirectory
{
    /// <summary>Makes <paramref name="outputDir"/> an empty folder: refuses one with files unless <paramref name="overwrite"/>, which deletes them.</summary>
    public static void PrepareFresh(string outputDir, bool overwrite)
    {
        if (Directory.Exists(outputDir) && Directory.EnumerateFileSystemEntries(outputDir).Any())
        {
            if (!overwrite)
                throw new TrainingException($"{outputDir}: output_dir already holds files (another run's checkpoints, metrics or model); " +
                    "set overwrite_output_dir: true to delete them and start clean, resume: true to continue that run, or choose a new output_dir");
            foreach (var dir in Directory.EnumerateDirectories(outputDir)) Directory.Delete(dir, true);
            foreach (var file in Directory.EnumerateFiles(outputDir)) File.Delete(file);
        }
        Directory.CreateDirectory(outputDir);
    }
}
