using AlignSharp.Feedback;
using AlignSharp.Models.Transformers;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;
using AlignSharp.Training.Online;
using AlignSharp.Training.Tests.Methods;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Training.Tests.Trainers;

/// <summary>RLOO and REINFORCE++ on a tiny model: a few steps train every parameter with finite losses and the methods' metrics.</summary>
public class PolicyGradientTrainerTests : IDisposable
{
    private readonly TinyModel _tiny = new();

    public void Dispose() => _tiny.Dispose();

    /// <summary>Shorter answers score higher (−characters ÷ 10); "skip" prompts get no score (not applicable).</summary>
    private sealed class ShortAnswers : ISignalSource
    {
        public string Name => "short";
        public string Fingerprint => "short/1";
        public FeedbackLabel? Score(PromptRecord prompt, string response) =>
            prompt.Id.StartsWith("skip", StringComparison.Ordinal) ? null : new FeedbackLabel(-response.Length / 10.0, "", new Provenance("short", SignalKind.Verifier));
    }

    /// <summary>Eight prompts: two generation batches of four prompts × two completions per epoch.</summary>
    private static IReadOnlyList<PromptRecord> Prompts() =>
        [.. Enumerable.Range(0, 8).Select(i => new PromptRecord(i == 5 ? "skip5" : $"p{i}", $"Say something about the number {i}.", "", new Dictionary<string, string>()))];

    private TrainingArguments Args(string name) => new()
    {
        Model = _tiny.Folder, Dataset = "prompts.jsonl", OutputDir = _tiny.In(name), LearningRate = 5e-3f, LrSchedulerType = "constant",
        MaxSteps = 4, PerDeviceTrainBatchSize = 4, GradientAccumulationSteps = 2, SaveSteps = 100, LoggingSteps = 1, Seed = 5,
    };

    private static List<IReadOnlyDictionary<string, double>> Train(OnlineTrainer trainer, TrainableModel model, out Dictionary<string, float[]> before)
    {
        var steps = new List<IReadOnlyDictionary<string, double>>();
        trainer.Progress += p => steps.Add(p.Metrics);
        before = model.Trainable.ToDictionary(t => t.Name, t => t.Tensor.ToArray());
        trainer.Train();
        return steps;
    }

    private static void AssertTrained(TrainableModel model, Dictionary<string, float[]> before, List<IReadOnlyDictionary<string, double>> steps, string what, params string[] keys)
    {
        Assert.NotEmpty(steps);
        foreach (var metrics in steps)
        {
            Assert.True(double.IsFinite(metrics["loss"]), $"{what}: loss {metrics["loss"]}");
            foreach (var key in keys) Assert.True(metrics.ContainsKey(key) && double.IsFinite(metrics[key]), $"{what}: metric {key} missing or not finite");
        }
        foreach (var (name, tensor) in model.Trainable)
            Assert.False(before[name].SequenceEqual(tensor.ToArray()), $"{what}: trainable parameter {name} did not change");
    }

    [Fact]
    public void Rloo_trains_with_the_kl_penalty_and_reused_batches()
    {
        var args = Args("rloo");
        var encoder = ExampleTokenizer.FromFolder(args.Model);
        var model = new FullCausalLm(HuggingFaceFolder.Load(args.Model));
        var rewards = new RewardFunctions([new RewardFunction(new ShortAnswers())]);
        var options = new RlooOptions { NumGenerations = 2, Beta = 0.05f, NumIterations = 2, MaxCompletionLength = 8 };
        using var trainer = new RlooTrainer(args, model, Prompts(), encoder, rewards, options);
        var steps = Train(trainer, model, out var before);
        AssertTrained(model, before, steps, "rloo", "kl", "frac_reward_zero_std", "clip_ratio/region_mean", "entropy");
        // The first pass over each batch records how far the training forward is from the sampling log-probs.
        Assert.Contains(steps, s => s.ContainsKey("sampling/logp_max_deviation"));
        Assert.All(steps.Where(s => s.ContainsKey("sampling/logp_max_deviation")), s => Assert.True(s["sampling/logp_max_deviation"] < 1e-4, $"sampling and training log-probs differ by {s["sampling/logp_max_deviation"]}"));
    }

    [Fact]
    public void Reinforce_pp_trains_on_globally_whitened_token_advantages()
    {
        var args = Args("reinforce-pp");
        var encoder = ExampleTokenizer.FromFolder(args.Model);
        var model = new FullCausalLm(HuggingFaceFolder.Load(args.Model));
        var rewards = new RewardFunctions([new RewardFunction(new ShortAnswers())]);
        var options = new ReinforcePlusPlusOptions { NumGenerations = 2, Beta = 0.05f, MaxCompletionLength = 8 };
        using var trainer = new ReinforcePlusPlusTrainer(args, model, Prompts(), encoder, rewards, options);
        var steps = Train(trainer, model, out var before);
        AssertTrained(model, before, steps, "reinforce_pp", "kl", "ppo_kl", "advantages/return_std", "clip_ratio/region_mean");
        // One pass per batch, one optimizer step per batch: the sampling log-probs are the training forward's, so the
        // ratio is 1 to float precision, nothing is clipped and the old/new KL is ~0.
        Assert.All(steps, s => Assert.Equal(0.0, s["clip_ratio/region_mean"]));
        Assert.All(steps, s => Assert.True(Math.Abs(s["ppo_kl"]) < 1e-5, $"ppo_kl {s["ppo_kl"]}"));
    }

    [Fact]
    public void Generation_batches_must_hold_whole_groups()
    {
        var args = Args("bad") with { PerDeviceTrainBatchSize = 3, GradientAccumulationSteps = 1 };
        var encoder = ExampleTokenizer.FromFolder(args.Model);
        var model = new FullCausalLm(HuggingFaceFolder.Load(args.Model));
        var rewards = new RewardFunctions([new RewardFunction(new ShortAnswers())]);
        var e = Assert.Throws<TrainingException>(() => new RlooTrainer(args, model, Prompts(), encoder, rewards, new RlooOptions { NumGenerations = 2 }));
        Assert.Contains("multiple of num_generations 2", e.Message);
        e = Assert.Throws<TrainingException>(() => new ReinforcePlusPlusTrainer(args, model, Prompts(), encoder, rewards, new ReinforcePlusPlusOptions { Gamma = 2f }));
        Assert.Contains("reinforce_pp: gamma", e.Message);
    }
}
