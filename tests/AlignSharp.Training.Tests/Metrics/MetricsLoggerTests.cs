using AlignSharp.Training.Metrics;

namespace AlignSharp.Training.Tests.Metrics;

public class MetricsLoggerTests
{
    sealed class RecordingSink : IMetricsSink
    {
        public List<(long Step, Dictionary<string, double> Scalars)> Logged { get; } = [];
        public int Flushes { get; private set; }
        public bool Disposed { get; private set; }
        public bool ThrowOnDispose { get; init; }
        public void Log(long step, IReadOnlyDictionary<string, double> scalars) => Logged.Add((step, new(scalars)));
        public void Flush() => Flushes++;
        public void Dispose()
        {
            Disposed = true;
            if (ThrowOnDispose) throw new IOException("disk gone");
        }
    }

    [Fact]
    public void Fans_out_to_every_sink()
    {
        var a = new RecordingSink();
        var b = new RecordingSink();
        using (var logger = new MetricsLogger(a, b))
        {
            logger.Log(4, new Dictionary<string, double> { ["loss"] = 1 });
            logger.Flush();
        }
        foreach (var sink in new[] { a, b })
        {
            Assert.Equal(4, Assert.Single(sink.Logged).Step);
            Assert.Equal(1, sink.Flushes);
            Assert.True(sink.Disposed);
        }
    }

    [Fact]
    public void Averages_cover_each_tags_last_window_values()
    {
        using var logger = new MetricsLogger();
        for (int step = 1; step <= 10; step++)
        {
            var scalars = new Dictionary<string, double> { ["loss"] = step };
            if (step % 2 == 0) scalars["eval/loss"] = 100 + step;
            logger.Log(step, scalars);
        }
        var averages = logger.Averages(4);
        Assert.Equal((7 + 8 + 9 + 10) / 4.0, averages["loss"]);
        Assert.Equal((104 + 106 + 108 + 110) / 4.0, averages["eval/loss"]);
        Assert.Equal(106, logger.Averages(100)["eval/loss"]); // fewer than the window logged: the mean of all 5
        Assert.Equal(10, logger.Last["loss"]);
        Assert.Equal(110, logger.Last["eval/loss"]);
        Assert.Equal(10, logger.LastStep);
    }

    [Fact]
    public void History_is_bounded_by_capacity()
    {
        using var logger = new MetricsLogger([], historyCapacity: 3);
        foreach (double v in new[] { 100.0, 1, 2, 3 }) logger.Log(0, new Dictionary<string, double> { ["x"] = v });
        Assert.Equal(2, logger.Averages(3)["x"]);
        Assert.Throws<ArgumentOutOfRangeException>(() => logger.Averages(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => logger.Averages(0));
    }

    [Fact]
    public void A_nan_shows_in_the_average()
    {
        using var logger = new MetricsLogger();
        logger.Log(1, new Dictionary<string, double> { ["loss"] = 1 });
        logger.Log(2, new Dictionary<string, double> { ["loss"] = double.NaN });
        Assert.True(double.IsNaN(logger.Averages(10)["loss"]));
    }

    [Fact]
    public void Dispose_closes_every_sink_even_when_one_throws()
    {
        var failing = new RecordingSink { ThrowOnDispose = true };
        var other = new RecordingSink();
        var logger = new MetricsLogger(failing, other);
        Assert.Throws<AggregateException>(logger.Dispose);
        Assert.True(other.Disposed);
    }

    [Fact]
    public void Writes_both_file_formats_through_real_sinks()
    {
        using var folder = new TempFolder();
        string eventsPath;
        using (var logger = new MetricsLogger(new TensorBoardWriter(folder.Path), new JsonlMetricsWriter(folder.Path)))
        {
            logger.Log(1, new Dictionary<string, double> { ["loss"] = 0.75 });
            eventsPath = Directory.GetFiles(folder.Path, "events.out.tfevents.*").Single();
        }
        Assert.Equal(0.75f, Assert.Single(TensorBoardReader.ReadScalars(eventsPath)).Value);
        Assert.Single(File.ReadAllLines(Path.Combine(folder.Path, "metrics.jsonl")));
    }
}
