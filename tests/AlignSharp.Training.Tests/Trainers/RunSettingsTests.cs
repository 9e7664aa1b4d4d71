using AlignSharp.Training.Core;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Training.Tests.Trainers;

/// <summary>The resume check on recorded settings, without training: which changes it names and which it lets through.</summary>
public class RunSettingsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-settings-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    private static readonly TrainingArguments Run = new() { Model = "m", Dataset = "d.jsonl", MaxSteps = 10, LearningRate = 1e-4f };

    private Dictionary<string, string> Settings(TrainingArguments args, DpoOptions dpo) => RunSettings.Of(args, Math.Max(args.MaxSteps, 1), [dpo]);

    private string? Refusal(TrainingArguments args, DpoOptions dpo, params string[] overrides)
    {
        try { RunSettings.CheckResume(_dir, Settings(args, dpo), overrides); return null; }
        catch (TrainingException e) { return e.Message; }
    }

    [Fact]
    public void Changed_keys_are_named_unless_safe_grown_or_overridden()
    {
        RunSettings.Record(_dir, Settings(Run, new DpoOptions()));
        Assert.Null(Refusal(Run with { Resume = true, LoggingSteps = 1, SaveSteps = 3, Threads = 2, MaxSteps = 20 }, new DpoOptions()));
        var message = Refusal(Run with { Dataset = "other.jsonl", Seed = 7, MaxSteps = 5 }, new DpoOptions { Beta = 0.5f });
        Assert.NotNull(message);
        foreach (var part in new[] { "dataset: other.jsonl (the run was started with d.jsonl)", "seed: 7 (the run was started with 42)", "max_steps: 5", "may only grow", "beta: 0.5 (the run was started with 0.1)" })
            Assert.Contains(part, message);
        Assert.DoesNotContain("learning_rate", message);
        Assert.Null(Refusal(Run with { LearningRate = 1e-5f }, new DpoOptions(), "learning_rate"));
        Assert.Contains("resume_override: 'learnig_rate' is not a training key", Refusal(Run, new DpoOptions(), "learnig_rate"));
    }

    [Fact]
    public void Safe_keys_are_real_keys()
    {
        var keys = AlignSharp.Training.Config.ConfigBinder.Keys(typeof(TrainingArguments)).ToHashSet();
        Assert.All(RunSettings.SafeToChangeOnResume.Concat(RunSettings.MayGrowOnResume), k => Assert.Contains(k, keys));
    }
}
