using AlignSharp.Alignment.Stages;
using AlignSharp.Training;

namespace AlignSharp.Alignment.Tests;

public class StageRunnerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-stages-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    [Fact]
    public void Resume_skips_finished_stages_and_reruns_a_cut_off_one()
    {
        var log = new StringWriter();
        var first = new StageRunner(_dir, resume: false, log);
        int a = 0, b = 0;
        Assert.True(first.Run("a", () => a++));
        Assert.Throws<InvalidOperationException>(() => first.Run("b", () => throw new InvalidOperationException("killed")));
        Assert.True(File.Exists(Path.Combine(_dir, "stages", "a.done")));
        Assert.False(File.Exists(Path.Combine(_dir, "stages", "b.done")));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_dir, "stages"), "*.tmp"));

        var resumed = new StageRunner(_dir, resume: true, log);
        Assert.True(resumed.IsDone("a"));
        Assert.False(resumed.Run("a", () => a++));
        Assert.True(resumed.Run("b", () => b++));
        Assert.Equal((1, 1), (a, b));
        Assert.Contains("a: done earlier, skipped", log.ToString());
        Assert.Contains("b: finished in", log.ToString());
    }

    [Fact]
    public void A_fresh_run_forgets_the_stages_of_an_earlier_one()
    {
        new StageRunner(_dir, resume: false, TextWriter.Null).Run("a", () => { });
        var fresh = new StageRunner(_dir, resume: false, TextWriter.Null);
        Assert.False(fresh.IsDone("a"));
        int runs = 0;
        Assert.True(fresh.Run("a", () => runs++));
        Assert.Equal(1, runs);
    }

    [Fact]
    public void Earlier_training_time_is_added_to_the_stage_time()
    {
        var log = new StringWriter();
        var runner = new StageRunner(_dir, resume: false, log);
        runner.Run("train", () => runner.AddEarlierTime(TimeSpan.FromSeconds(100)));
        Assert.Matches(@"train: finished in 10\d\.\d s", log.ToString());
    }

    [Fact]
    public void Resuming_with_a_changed_key_is_refused_naming_it_and_free_keys_may_change()
    {
        var values = new Dictionary<string, string> { ["seed"] = "1", ["rounds"] = "2" };
        RecipeRecord.CheckAndRecord(_dir, values, ["rounds"], resume: false);
        RecipeRecord.CheckAndRecord(_dir, new Dictionary<string, string> { ["seed"] = "1", ["rounds"] = "3" }, ["rounds"], resume: true);
        var e = Assert.Throws<TrainingException>(() =>
            RecipeRecord.CheckAndRecord(_dir, new Dictionary<string, string> { ["seed"] = "2", ["rounds"] = "3" }, ["rounds"], resume: true));
        Assert.Contains("seed: 2 (the run was started with 1)", e.Message);
        // Without resume the new settings are simply recorded.
        RecipeRecord.CheckAndRecord(_dir, new Dictionary<string, string> { ["seed"] = "2" }, [], resume: false);
        File.WriteAllText(Path.Combine(_dir, RecipeRecord.FileName), "{not json");
        Assert.Contains("cannot read the recipe", Assert.Throws<TrainingException>(() => RecipeRecord.CheckAndRecord(_dir, values, [], resume: true)).Message);
    }
}
