using AlignSharp.Feedback;
using AlignSharp.Models.Lora;
using AlignSharp.Models.Transformers;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;
using AlignSharp.Training.Online;
using AlignSharp.Training.Tests.Methods;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Training.Tests.Trainers;

/// <summary>GRPO and online DPO on a tiny model: training moves every parameter, the reward is learned, a resumed run is bitwise an uninterrupted one.</summary>
public class GrpoTrainerTests : IDisposable
{
    private readonly TinyModel _tiny = new();

    public void Dispose() => _tiny.Dispose();

    /// <summary>Shorter completions score higher (1 − tokens ÷ 8, from the text's length); "skip" prompts get no score.</summary>
    private sealed class Brevity : ISignalSource
    {
        public string Name => "brevity";
        public string Fingerprint => "brevity/1";
        public FeedbackLabel? Score(PromptRecord prompt, string response) =>
            prompt.Id.StartsWith("skip", StringComparison.Ordinal) ? null : new FeedbackLabel(1.0 - Math.Min(response.Length, 40) / 40.0, "", new Provenance("brevity", SignalKind.Verifier));
    }

    private static IReadOnlyList<PromptRecord> Prompts() =>
        [.. Enumerable.Range(0, 8).Select(i => new PromptRecord(i == 3 ? "skip3" : $"p{i}", $"Tell me about {i}.", "", new Dictionary<string, string>()))];

    private TrainingArguments Args(string name) => new()
    {
        Model = _tiny.Folder, Dataset = "prompts.jsonl", OutputDir = _tiny.In(name), LearningRate = 5e-3f, LrSchedulerType = "constant",
        MaxSteps = 4, PerDeviceTrainBatchSize = 4, GradientAccumulationSteps = 2, SaveSteps = 100, LoggingSteps = 1, Seed = 3,
    };

    private TrainableModel Model(bool lora)
    {
        var model = HuggingFaceFolder.Load(_tiny.Folder);
        return lora ? new LoraCausalLm(model, new LoraConfig(4, 8, 0f, null, null, false), seed: 2) : new FullCausalLm(model);
    }

    private static List<IReadOnlyDictionary<string, double>> Train(Trainer trainer, TrainableModel model, out Dictionary<string, float[]> before, CancellationToken token = default)
    {
        var steps = new List<IReadOnlyDictionary<string, double>>();
        trainer.Progress += p => steps.Add(p.Metrics);
        before = model.Trainable.ToDictionary(t => t.Name, t => t.Tensor.ToArray());
        trainer.Train(token);
        return steps;
    }

    [Theory]
    [InlineData(false, GrpoLossType.Dapo, 1)]
    [InlineData(true, GrpoLossType.Grpo, 2)]
    [InlineData(true, GrpoLossType.DrGrpo, 1)]
    public void Grpo_trains_every_parameter_with_finite_losses_and_trl_metrics(bool lora, GrpoLossType lossType, int iterations)
    {
        var args = Args($"grpo-{lora}-{lossType}");
        var model = Model(lora);
        var options = new GrpoOptions { NumGenerations = 4, LossType = lossType, NumIterations = iterations, Beta = 0.04f, MaxCompletionLength = 8 };
        using var trainer = new GrpoTrainer(args, model, Prompts(), ExampleTokenizer.FromFolder(_tiny.Folder), new RewardFunctions([new RewardFunction(new Brevity())]), options);
        var steps = Train(trainer, model, out var before);
        Assert.Equal(4, steps.Count);
        foreach (var s in steps)
        {
            Assert.True(double.IsFinite(s["loss"]), $"loss {s["loss"]}");
            foreach (var key in new[] { "reward", "rewards/brevity/mean", "frac_reward_zero_std", "kl", "completions/mean_length", "timing/generate" })
                Assert.True(s.ContainsKey(key) && double.IsFinite(s[key]), $"metric {key} missing or not finite");
        }
        // Same engine for sampling and training: the first pass over each batch sees the sampling log-probs exactly.
        Assert.All(steps.Where(s => s.ContainsKey("sampling/logp_max_deviation")), s => Assert.True(s["sampling/logp_max_deviation"] <= 1e-5, $"deviation {s["sampling/logp_max_deviation"]}"));
        Assert.Contains(steps, s => s.ContainsKey("sampling/logp_max_deviation"));
        foreach (var (name, tensor) in model.Trainable)
            Assert.False(before[name].SequenceEqual(tensor.ToArray()), $"trainable parameter {name} did not change");
        Assert.True(File.Exists(Path.Combine(args.OutputDir, lora ? "adapter_config.json" : "config.json")));
    }

    /// <summary>The share of the response's characters that are not ASCII letters (0 for an empty response): about a quarter for the untrained model.</summary>
    private sealed class NonLetterShare : ISignalSource
    {
        public string Name => "non_letters";
        public string Fingerprint => "non_letters/1";
        public FeedbackLabel? Score(PromptRecord prompt, string response) =>
            new(response.Length == 0 ? 0 : response.Count(c => !char.IsAsciiLetter(c)) / (double)response.Length, "", new Provenance("non_letters", SignalKind.Verifier));
    }

    [Fact]
    public void Grpo_learns_a_reward()
    {
        var args = Args("learn") with { MaxSteps = 20, LearningRate = 2e-2f };
        var model = Model(lora: false);
        var options = new GrpoOptions { NumGenerations = 4, MaxCompletionLength = 12 };
        using var trainer = new GrpoTrainer(args, model, Prompts(), ExampleTokenizer.FromFolder(_tiny.Folder), new RewardFunctions([new RewardFunction(new NonLetterShare())]), options);
        var steps = Train(trainer, model, out _);
        double early = steps.Take(4).Average(s => s["reward"]), late = steps.TakeLast(4).Average(s => s["reward"]);
        // Measured: 0.23 → 1.00 (the last 4 steps' mean); the margin leaves room for other kernels' rounding.
        Assert.True(late > early + 0.3, $"reward {early:F3} → {late:F3}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Grpo_killed_mid_generation_batch_and_resumed_ends_bitwise_equal(bool lora)
    {
        // steps_per_generation 4 with accumulation 2: a generation batch spans two optimizer steps, and num_iterations 2
        // trains on it twice, so the checkpoint at step 3 lies inside a batch and must carry it.
        var options = new GrpoOptions { NumGenerations = 4, NumIterations = 2, StepsPerGeneration = 4, MaxCompletionLength = 8, Beta = 0.02f };
        float[] Run(string name, bool interrupt)
        {
            var args = Args(name) with { MaxSteps = 8, SaveSteps = 3 };
            if (interrupt)
            {
                using var cts = new CancellationTokenSource();
                var firstModel = Model(lora);
                using (var first = new GrpoTrainer(args, firstModel, Prompts(), ExampleTokenizer.FromFolder(_tiny.Folder), new RewardFunctions([new RewardFunction(new Brevity())]), options))
                {
                    first.Progress += p => { if (p.Step == 5) cts.Cancel(); };
                    Assert.Throws<OperationCanceledException>(() => first.Train(cts.Token));
                }
                Assert.True(File.Exists(Path.Combine(args.OutputDir, "checkpoint-3", OnlineTrainer.StateFile)));
                args = args with { Resume = true };
            }
            var model = Model(lora);
            using var trainer = new GrpoTrainer(args, model, Prompts(), ExampleTokenizer.FromFolder(_tiny.Folder), new RewardFunctions([new RewardFunction(new Brevity())]), options);
            trainer.Train();
            return model.Trainable.SelectMany(t => t.Tensor.ToArray()).ToArray();
        }
        var straight = Run($"straight-{lora}", interrupt: false);
        var resumed = Run($"resumed-{lora}", interrupt: true);
        Assert.True(straight.AsSpan().SequenceEqual(resumed), "the resumed run trained different weights");
    }

    [Fact]
    public void Generation_batches_stay_whole_when_the_prompts_do_not_divide_into_them()
    {
        // 5 prompts, 4 per generation batch (8 completions): the batch that crosses an epoch's end must still be whole,
        // so every step's micro-batches are on-policy (the deviation stays 0, nothing is clipped).
        var args = Args("uneven") with { MaxSteps = 5 };
        var model = Model(lora: false);
        var options = new GrpoOptions { NumGenerations = 2, MaxCompletionLength = 6 };
        using var trainer = new GrpoTrainer(args, model, Prompts().Take(5).ToList(), ExampleTokenizer.FromFolder(_tiny.Folder), new RewardFunctions([new RewardFunction(new Brevity())]), options);
        var steps = Train(trainer, model, out _);
        Assert.Equal(5, steps.Count);
        Assert.All(steps, s => Assert.True(s["sampling/logp_max_deviation"] <= 1e-5, $"deviation {s["sampling/logp_max_deviation"]}"));
        Assert.All(steps, s => Assert.Equal(0.0, s["clip_ratio/region_mean"]));
    }

    [Fact]
    public void Dynamic_sampling_drops_groups_whose_rewards_are_all_equal()
    {
        var args = Args("dynamic") with { MaxSteps = 2 };
        var model = Model(lora: true);
        // Every completion of a "skip" prompt is unscored (NaN): such a group has no signal and is dropped.
        var options = new GrpoOptions { NumGenerations = 4, MaxCompletionLength = 6, DynamicSampling = true };
        using var trainer = new GrpoTrainer(args, model, Prompts(), ExampleTokenizer.FromFolder(_tiny.Folder), new RewardFunctions([new RewardFunction(new Brevity())]), options);
        var steps = Train(trainer, model, out _);
        Assert.All(steps, s => Assert.True(double.IsFinite(s["loss"])));
    }

    /// <summary>The same score for every completion: every pair ties.</summary>
    private sealed class Constant : ISignalSource
    {
        public string Name => "constant";
        public string Fingerprint => "constant/1";
        public FeedbackLabel? Score(PromptRecord prompt, string response) => new(1.0, "", new Provenance("constant", SignalKind.Verifier));
    }

    [Fact]
    public void Online_dpo_without_ties_leaves_tied_pairs_out_unless_every_pair_ties()
    {
        foreach (var (source, tiesTrained) in new (ISignalSource, double)[] { (new Constant(), 1), (new Brevity(), 0) })
        {
            var args = Args($"ties-{source.Name}") with { MaxSteps = 2 };
            var model = Model(lora: true);
            using var trainer = new OnlineDpoTrainer(args, model, Prompts(), ExampleTokenizer.FromFolder(_tiny.Folder), new RewardFunctions([new RewardFunction(source)]),
                new OnlineDpoOptions { MaxNewTokens = 6, TrainOnTies = false });
            var steps = Train(trainer, model, out _);
            Assert.All(steps, s => Assert.True(double.IsFinite(s["loss"])));
            Assert.All(steps, s => Assert.Equal(tiesTrained, s["pairs/ties_trained"]));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Online_dpo_trains_on_pairs_ranked_by_the_reward(bool lora)
    {
        var args = Args($"online-dpo-{lora}") with { MaxSteps = 3, LearningRate = 1e-3f };
        var model = Model(lora);
        using var trainer = new OnlineDpoTrainer(args, model, Prompts(), ExampleTokenizer.FromFolder(_tiny.Folder), new RewardFunctions([new RewardFunction(new Brevity())]),
            new OnlineDpoOptions { MaxNewTokens = 8 });
        var steps = Train(trainer, model, out var before);
        Assert.Equal(3, steps.Count);
        Assert.All(steps, s =>
        {
            Assert.True(double.IsFinite(s["loss"]));
            Assert.True(s["pairs/kept_fraction"] > 0 && s["pairs/kept_fraction"] <= 1);
            Assert.True(s.ContainsKey("rewards/margins"));
        });
        foreach (var (name, tensor) in model.Trainable)
            Assert.False(before[name].SequenceEqual(tensor.ToArray()), $"trainable parameter {name} did not change");
    }
}

/// <summary>max_prompt_length: the sampler keeps a long prompt's last tokens, as TRL truncates prompts on the left.</summary>
public class PromptTruncationTests : IDisposable
{
    private readonly TinyModel _tiny = new();

    public void Dispose() => _tiny.Dispose();

    [Fact]
    public void A_long_prompt_keeps_its_last_max_prompt_length_tokens()
    {
        var encoder = ExampleTokenizer.FromFolder(_tiny.Folder);
        using var model = HuggingFaceFolder.Load(_tiny.Folder);
        var sampler = new PolicySampler(model, encoder);
        var prompt = new PromptRecord("long", string.Join(' ', Enumerable.Repeat("a fairly long prompt", 20)), "", new Dictionary<string, string>());
        int[] full = sampler.PromptIds(prompt);
        Assert.True(full.Length > 16);
        var rollout = sampler.Sample([prompt], 1, new SamplingOptions { MaxNewTokens = 2, MaxPromptLength = 16 }, 1)[0][0];
        Assert.Equal(full[^16..], rollout.PromptIds);
        Assert.Equal(full, sampler.Sample([prompt], 1, new SamplingOptions { MaxNewTokens = 2 }, 1)[0][0].PromptIds);
    }
}
