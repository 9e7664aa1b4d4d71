using System.Text.Json;
using AlignSharp.Training.Metrics;

namespace AlignSharp.Training.Tests.Metrics;

/// <summary>A resumed run redoes the steps after its checkpoint: its writers drop the records of those steps first, so every step appears once.</summary>
public class ResumeTruncationTests
{
    private static readonly Dictionary<string, double> Loss = new() { ["loss"] = 1 };

    [Fact]
    public void Jsonl_lines_after_the_resumed_step_are_dropped()
    {
        using var folder = new TempFolder();
        using (var first = new JsonlMetricsWriter(folder.Path))
            for (int step = 1; step <= 7; step++) first.Log(step, Loss);
        File.AppendAllText(folder.File(JsonlMetricsWriter.FileName), "{\"step\": 8, \"lo"); // killed mid-line
        using (var resumed = new JsonlMetricsWriter(folder.Path, truncateAfterStep: 4))
            for (int step = 5; step <= 9; step++) resumed.Log(step, Loss);
        var steps = File.ReadAllLines(folder.File(JsonlMetricsWriter.FileName)).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt64());
        Assert.Equal(Enumerable.Range(1, 9).Select(i => (long)i), steps);
    }

    [Fact]
    public void TensorBoard_records_after_the_resumed_step_are_dropped_from_older_files()
    {
        using var folder = new TempFolder();
        double clock = 1_700_000_000;
        using (var first = new TensorBoardWriter(folder.Path, () => clock++, "host"))
            for (int step = 1; step <= 7; step++) first.Log(step, Loss);
        TensorBoardWriter.DropRecordsAfter(folder.Path, 4);
        using (var resumed = new TensorBoardWriter(folder.Path, () => clock++, "host"))
            for (int step = 5; step <= 9; step++) resumed.Log(step, Loss);
        var files = Directory.EnumerateFiles(folder.Path, TensorBoardWriter.FilePrefix + "*").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, files.Count);
        Assert.Equal(TensorBoardWriter.FileVersion, TensorBoardReader.ReadEvents(files[0])[0].FileVersion);
        var steps = files.SelectMany(f => TensorBoardReader.ReadScalars(f)).Select(s => s.Step);
        Assert.Equal(Enumerable.Range(1, 9).Select(i => (long)i), steps);
    }

    [Fact]
    public void Public_resume_constructor_truncates_too()
    {
        using var folder = new TempFolder();
        using (var first = new TensorBoardWriter(folder.Path))
            for (int step = 1; step <= 3; step++) first.Log(step, Loss);
        using (var resumed = new TensorBoardWriter(folder.Path, truncateAfterStep: 1)) { }
        var steps = Directory.EnumerateFiles(folder.Path, TensorBoardWriter.FilePrefix + "*").SelectMany(f => TensorBoardReader.ReadScalars(f)).Select(s => s.Step);
        Assert.Equal([1L], steps);
    }
}
