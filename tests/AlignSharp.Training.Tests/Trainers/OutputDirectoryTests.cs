using AlignSharp.Training.Core;

namespace AlignSharp.Training.Tests.Trainers;

public class OutputDirectoryTests
{
    [Fact]
    public void Overwriting_ignores_inputs_with_no_path()
    {
        // An online round trains on prompts held in memory: its dataset has no path, which must not stop a re-run
        // from clearing the round's earlier output.
        string dir = Path.Combine(Path.GetTempPath(), "alignsharp-output-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "old.txt"), "x");
            OutputDirectory.PrepareFresh(dir, overwrite: true, ["", null, "model"]);
            Assert.Empty(Directory.EnumerateFileSystemEntries(dir));
        }
        finally { Directory.Delete(dir, true); }
    }
}
