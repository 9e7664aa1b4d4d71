using AlignSharp.Training.Metrics;

namespace AlignSharp.Training.Tests.Metrics;

/// <summary>
/// Checks against Fixtures/tfevents/events.out.tfevents.1700000000.golden, written independently by
/// tools/fixtures/check_tfevents.py (pure-Python TFRecord, protobuf and CRC-32C) from the same scalars.
/// </summary>
public class TensorBoardGoldenTests
{
    const string GoldenName = "events.out.tfevents.1700000000.golden";

    // Keep in step with SCALARS, WALL_TIME_START and WALL_TIME_STEP in check_tfevents.py.
    static readonly (long Step, (string Tag, double Value)[] Values)[] Scalars =
    [
        (0, [("loss", 2.5), ("lr", 0.0)]),
        (1, [("kl/β", -0.001), ("loss", 2.25), ("lr", 1e-05)]),
        (300, [("loss", 1.0 / 3.0), ("reward/mean", -7.75)]),
        (8589934592, [("loss", 0.1), ("lr", 3e-4)]),
    ];

    static double WallTime(int record) => 1700000000.5 + 0.125 * record;

    static string GoldenPath => Path.Combine(AppContext.BaseDirectory, "Fixtures", "tfevents", GoldenName);

    [Fact]
    public void Reader_reads_the_python_written_file()
    {
        var events = TensorBoardReader.ReadEvents(GoldenPath);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.Equal(WallTime(0), events[0].WallTime);
        Assert.Equal(Scalars.Length + 1, events.Count);
        for (int i = 0; i < Scalars.Length; i++)
        {
            Assert.Equal(WallTime(i + 1), events[i + 1].WallTime);
            Assert.Equal(
                Scalars[i].Values.Select(v => (Scalars[i].Step, v.Tag, (float)v.Value)),
                events[i + 1].Scalars.Select(s => (s.Step, s.Tag, s.Value)));
        }
    }

    [Fact]
    public void Writer_output_matches_the_python_written_file_byte_for_byte()
    {
        using var folder = new TempFolder();
        int record = 0;
        string path;
        // Dictionaries filled in reverse: the writer must order tags itself.
        using (var writer = new TensorBoardWriter(folder.Path, () => WallTime(record++), "golden"))
        {
            path = writer.FilePath;
            foreach (var (step, values) in Scalars)
                writer.Log(step, values.Reverse().ToDictionary(v => v.Tag, v => v.Value));
        }
        Assert.Equal(GoldenName, Path.GetFileName(path));
        Assert.Equal(File.ReadAllBytes(GoldenPath), File.ReadAllBytes(path));
    }
}
