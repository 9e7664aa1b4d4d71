using System.Text.RegularExpressions;
using AlignSharp.Training.Metrics;

namespace AlignSharp.Training.Tests.Metrics;

public class TensorBoardWriterTests
{
    [Fact]
    public void File_name_is_prefix_ten_digit_seconds_and_host()
    {
        using var folder = new TempFolder();
        using var writer = new TensorBoardWriter(folder.Path);
        string name = Path.GetFileName(writer.FilePath);
        Assert.Matches(new Regex(@"^events\.out\.tfevents\.\d{10}\." + Regex.Escape(Environment.MachineName) + "$"), name);
        Assert.Equal(folder.Path, Path.GetDirectoryName(writer.FilePath));
    }

    [Fact]
    public void First_record_is_the_file_version_event()
    {
        using var folder = new TempFolder();
        using (var writer = new TensorBoardWriter(folder.Path, () => 1234567890.75, "host"))
            writer.Log(3, new Dictionary<string, double> { ["loss"] = 1 });
        var events = TensorBoardReader.ReadEvents(folder.File("events.out.tfevents.1234567890.host"));
        Assert.Equal(2, events.Count);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.Equal(1234567890.75, events[0].WallTime);
        Assert.Equal(0, events[0].Offset);
        Assert.Empty(events[0].Scalars);
        Assert.Null(events[1].FileVersion);
    }

    [Fact]
    public void Round_trip_keeps_steps_tags_and_float32_values()
    {
        using var folder = new TempFolder();
        string path;
        using (var writer = new TensorBoardWriter(folder.Path))
        {
            path = writer.FilePath;
            writer.Log(0, new Dictionary<string, double> { ["loss"] = 2.5, ["lr"] = 1e-5 });
            writer.Log(-1, new Dictionary<string, double> { ["reward/mean"] = double.NaN });
            writer.Log(long.MaxValue, new Dictionary<string, double> { ["kl"] = double.NegativeInfinity, ["loss"] = Math.PI });
        }
        var scalars = TensorBoardReader.ReadScalars(path);
        Assert.Equal(
            [(0L, "loss", 2.5f), (0L, "lr", 1e-5f), (-1L, "reward/mean", float.NaN), (long.MaxValue, "kl", float.NegativeInfinity), (long.MaxValue, "loss", (float)Math.PI)],
            scalars.Select(s => (s.Step, s.Tag, s.Value)));
    }

    [Fact]
    public void Each_log_is_on_disk_before_dispose()
    {
        using var folder = new TempFolder();
        using var writer = new TensorBoardWriter(folder.Path);
        writer.Log(7, new Dictionary<string, double> { ["loss"] = 0.5 });
        var scalar = Assert.Single(TensorBoardReader.ReadScalars(writer.FilePath));
        Assert.Equal(7, scalar.Step);
    }

    [Fact]
    public void A_second_writer_in_the_same_second_opens_a_new_file()
    {
        using var folder = new TempFolder();
        using var first = new TensorBoardWriter(folder.Path, () => 1700000000, "host");
        using var second = new TensorBoardWriter(folder.Path, () => 1700000000, "host");
        Assert.Equal(folder.File("events.out.tfevents.1700000000.host"), first.FilePath);
        Assert.Equal(folder.File("events.out.tfevents.1700000000.host.1"), second.FilePath);
    }

    [Fact]
    public void Corrupt_data_names_the_record_offset()
    {
        using var folder = new TempFolder();
        string path;
        using (var writer = new TensorBoardWriter(folder.Path))
        {
            path = writer.FilePath;
            writer.Log(1, new Dictionary<string, double> { ["loss"] = 1 });
        }
        byte[] bytes = File.ReadAllBytes(path);
        long secondRecord = 16 + BitConverter.ToInt64(bytes, 0);
        bytes[^6] ^= 0x01; // a byte inside the second record's data
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<TrainingException>(() => TensorBoardReader.ReadScalars(path));
        Assert.Contains($"offset {secondRecord}", error.Message);
        Assert.Contains("data CRC mismatch", error.Message);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void Corrupt_length_names_the_record_offset()
    {
        using var folder = new TempFolder();
        string path;
        using (var writer = new TensorBoardWriter(folder.Path)) path = writer.FilePath;
        byte[] bytes = File.ReadAllBytes(path);
        bytes[1] ^= 0x40;
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<TrainingException>(() => TensorBoardReader.ReadEvents(path));
        Assert.Contains("offset 0: record length CRC mismatch", error.Message);
    }

    [Fact]
    public void Truncated_last_record_names_its_offset()
    {
        using var folder = new TempFolder();
        string path;
        using (var writer = new TensorBoardWriter(folder.Path))
        {
            path = writer.FilePath;
            writer.Log(1, new Dictionary<string, double> { ["loss"] = 1 });
        }
        byte[] bytes = File.ReadAllBytes(path);
        long secondRecord = 16 + BitConverter.ToInt64(bytes, 0);
        File.WriteAllBytes(path, bytes[..^3]);
        var error = Assert.Throws<TrainingException>(() => TensorBoardReader.ReadEvents(path));
        Assert.Contains($"offset {secondRecord}: record data CRC is truncated", error.Message);
    }

    [Fact]
    public void Log_after_dispose_throws()
    {
        using var folder = new TempFolder();
        var writer = new TensorBoardWriter(folder.Path);
        writer.Dispose();
        writer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => writer.Log(1, new Dictionary<string, double> { ["loss"] = 1 }));
    }
}
