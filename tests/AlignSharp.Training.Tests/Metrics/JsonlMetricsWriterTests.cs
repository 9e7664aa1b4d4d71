using System.Text.Json;
using System.Text.Json.Serialization;
using AlignSharp.Training.Metrics;

namespace AlignSharp.Training.Tests.Metrics;

public class JsonlMetricsWriterTests
{
    static readonly DateTimeOffset Noon = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Each_line_is_a_json_object_with_step_time_and_tags()
    {
        using var folder = new TempFolder();
        using (var writer = new JsonlMetricsWriter(folder.Path, () => Noon))
        {
            writer.Log(1, new Dictionary<string, double> { ["loss"] = 2.5, ["reward/mean"] = 0.1 });
            writer.Log(2, new Dictionary<string, double> { ["loss"] = 1.0 / 3.0 });
        }
        string[] lines = File.ReadAllLines(folder.File("metrics.jsonl"));
        Assert.Equal("""{"step":1,"time":"2025-06-01T12:00:00Z","loss":2.5,"reward/mean":0.1}""", lines[0]);
        using var second = JsonDocument.Parse(lines[1]);
        Assert.Equal(2, second.RootElement.GetProperty("step").GetInt64());
        Assert.Equal(Noon, second.RootElement.GetProperty("time").GetDateTimeOffset());
        Assert.Equal(1.0 / 3.0, second.RootElement.GetProperty("loss").GetDouble());
    }

    [Fact]
    public void Non_finite_values_are_named_strings_that_read_back_as_doubles()
    {
        using var folder = new TempFolder();
        using (var writer = new JsonlMetricsWriter(folder.Path, () => Noon))
            writer.Log(5, new Dictionary<string, double> { ["a"] = double.NaN, ["b"] = double.PositiveInfinity, ["c"] = double.NegativeInfinity });
        string line = Assert.Single(File.ReadAllLines(folder.File("metrics.jsonl")));
        Assert.Contains("\"a\":\"NaN\",\"b\":\"Infinity\",\"c\":\"-Infinity\"", line);
        var options = new JsonSerializerOptions { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };
        var row = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(line)!;
        Assert.True(double.IsNaN(row["a"].Deserialize<double>(options)));
        Assert.Equal(double.PositiveInfinity, row["b"].Deserialize<double>(options));
        Assert.Equal(double.NegativeInfinity, row["c"].Deserialize<double>(options));
    }

    [Fact]
    public void A_resumed_run_appends_to_the_same_file()
    {
        using var folder = new TempFolder();
        using (var writer = new JsonlMetricsWriter(folder.Path, () => Noon))
            writer.Log(1, new Dictionary<string, double> { ["loss"] = 3 });
        using (var writer = new JsonlMetricsWriter(folder.Path, () => Noon.AddHours(1)))
            writer.Log(2, new Dictionary<string, double> { ["loss"] = 2 });
        var steps = File.ReadAllLines(folder.File("metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt64());
        Assert.Equal([1L, 2L], steps);
    }

    [Fact]
    public void A_partial_last_line_is_terminated_before_appending()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("metrics.jsonl"), "{\"step\":1,\"time\":\"2025-06-01T12:00:00Z\",\"loss\":3}\n{\"step\":2,\"lo");
        using (var writer = new JsonlMetricsWriter(folder.Path, () => Noon))
            writer.Log(3, new Dictionary<string, double> { ["loss"] = 1 });
        string[] lines = File.ReadAllLines(folder.File("metrics.jsonl"));
        Assert.Equal(3, lines.Length);
        Assert.Equal(3, JsonDocument.Parse(lines[2]).RootElement.GetProperty("step").GetInt64());
    }

    [Fact]
    public void Each_line_is_on_disk_before_dispose()
    {
        using var folder = new TempFolder();
        using var writer = new JsonlMetricsWriter(folder.Path, () => Noon);
        writer.Log(1, new Dictionary<string, double> { ["loss"] = 3 });
        using var reader = new FileStream(writer.FilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        Assert.Equal("{\"step\":1,", new StreamReader(reader).ReadLine()![..10]);
    }

    [Theory]
    [InlineData("step")]
    [InlineData("time")]
    [InlineData("")]
    public void Reserved_or_empty_tags_are_rejected(string tag)
    {
        using var folder = new TempFolder();
        using var writer = new JsonlMetricsWriter(folder.Path, () => Noon);
        var error = Assert.Throws<ArgumentException>(() => writer.Log(1, new Dictionary<string, double> { [tag] = 1 }));
        Assert.Contains("metrics.jsonl", error.Message);
    }
}
