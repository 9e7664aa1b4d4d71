using AlignSharp.Feedback;
using AlignSharp.Models.Lora;
using AlignSharp.Models.Transformers;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;
using AlignSharp.Training.Online;
using AlignSharp.Training.Tests.Methods;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Training.Tests.Trainers;

public class PpoTrainerTests : IDisposable
{
    private readonly TinyModel _tiny = new();

    public void Dispose() => _tiny.Dispose();

    /// <summary>Scores a completion by its share of the letter 'e' (a dense, deterministic signal).</summary>
    private sealed class LetterShare : ISignalSource
    {
        public string Name => "letter_e";
        public string Fingerprint => SignalFingerprint.Of(Name, 1);
        public FeedbackLabel? Score(PromptRecord prompt, string response) =>
            new(response.Length == 0 ? 0 : response.Count(c => c == 'e') / (double)response.Length, "share of 'e'", new Provenance(Name, SignalKind.Verifier));
    }

    private static readonly PromptRecord[] Prompts =
        [.. Enumerable.Range(0, 8).Select(i => new PromptRecord($"p{i}", $"Write a word number {i}", "general", new Dictionary<string, string>()))];

    private static readonly PpoOptions Options = new() { MaxCompletionLength = 6, Temperature = 1f, NumPpoEpochs = 2, AdaptiveKl = true, KlTarget = 0.01f, KlHorizon = 4 };

    private TrainingArguments Args(string output) => new()
    {
        Model = _tiny.Folder, OutputDir = _tiny.In(output), PerDeviceTrainBatchSize = 2, GradientAccumulationSteps = 2, MaxSteps = 4,
        LearningRate = 1e-3f, LoggingSteps = 1, SaveSteps = 1000, Seed = 3,
    };

    private (PpoTrainer Trainer, PolicyAndValue Model) Create(TrainingArguments args, bool lora, ValueModelKind kind, PpoOptions options)
    {
        var body = HuggingFaceFolder.Load(_tiny.Folder);
        TrainableModel policy = lora ? new LoraCausalLm(body, new LoraConfig(Rank: 4, Alpha: 8), seed: 2) : new FullCausalLm(body);
        var model = kind == ValueModelKind.Separate
            ? PolicyAndValue.WithCritic(policy, ValueHeadModel.Create(HuggingFaceFolder.Load(_tiny.Folder), seed: 4))   // a critic started from the policy, as TRL's examples
            : PolicyAndValue.WithSharedHead(policy, seed: 4);
        var rewards = new RewardFunctions([new RewardFunction(new LetterShare())]);
        return (new PpoTrainer(args, model, Prompts, ExampleTokenizer.FromFolder(_tiny.Folder), rewards, options with { ValueModel = kind }), model);
    }

    [Theory]
    [InlineData(false, ValueModelKind.Separate)]
    [InlineData(true, ValueModelKind.Shared)]
    public void Trains_the_policy_and_the_critic(bool lora, ValueModelKind kind)
    {
        var (trainer, model) = Create(Args($"run-{lora}-{kind}"), lora, kind, Options);
        using var _ = trainer;
        var before = model.Trainable.ToDictionary(t => t.Name, t => t.Tensor.ToArray());
        var logged = new List<IReadOnlyDictionary<string, double>>();
        trainer.Progress += p => logged.Add(p.Metrics);
        var result = trainer.Train();

        Assert.Equal(4, result.Steps);
        Assert.True(double.IsFinite(result.FinalLoss), $"final loss {result.FinalLoss}");
        foreach (var m in logged)
            foreach (var key in new[] { "loss/policy_avg", "loss/value_avg", "objective/kl", "objective/scores", "policy/clipfrac_avg", "policy/entropy_avg" })
                Assert.True(m.ContainsKey(key) && double.IsFinite(m[key]), $"metric {key} missing or not finite");
        // The first pass over each batch sees the policy that sampled it: ratio 1 up to float rounding.
        Assert.Contains(logged, m => m.TryGetValue("sampling/logp_max_deviation", out var d) && d < 1e-4);
        foreach (var (name, tensor) in model.Trainable.Where(t => t.Name.StartsWith("value_model.score") || t.Name == PolicyAndValue.ValueHeadName || t.Name.Contains("lora_B") || t.Name.EndsWith("embed_tokens.weight")))
            Assert.False(before[name].SequenceEqual(tensor.ToArray()), $"{name} did not move");
        Assert.Contains(model.Policy.Trainable, t => !before[t.Name].SequenceEqual(t.Tensor.ToArray()));
        Assert.NotEqual(0.05f, trainer.KlCoef);   // the adaptive controller moved it
        string output = _tiny.In($"run-{lora}-{kind}");   // the policy as its own folder, the critic beside it
        Assert.True(File.Exists(Path.Combine(output, lora ? "adapter_config.json" : "config.json")));
        Assert.True(kind == ValueModelKind.Separate ? File.Exists(Path.Combine(output, PolicyAndValue.ValueModelFolder, "config.json")) : File.Exists(Path.Combine(output, PolicyAndValue.ValueHeadFile)));
    }

    /// <summary>
    /// Killed mid rollout batch and resumed: the same weights (policy and critic) and KL coefficient as a run that went
    /// straight through (each rollout batch is 2 epochs × 1 optimizer step; the checkpoint at step 3 is inside the second).
    /// </summary>
    [Theory]
    [InlineData(false, ValueModelKind.Separate)]
    [InlineData(true, ValueModelKind.Shared)]
    public void Killed_and_resumed_run_ends_bitwise_equal(bool lora, ValueModelKind kind)
    {
        (float[] Weights, float KlCoef) Train(string name, bool interrupt)
        {
            var args = Args(name) with { MaxSteps = 6, SaveSteps = 3 };
            if (interrupt)
            {
                using var cts = new CancellationTokenSource();
                var (first, _) = Create(args, lora, kind, Options);
                using (first)
                {
                    first.Progress += p => { if (p.Step == 4) cts.Cancel(); };
                    Assert.Throws<OperationCanceledException>(() => first.Train(cts.Token));
                }
                args = args with { Resume = true };
            }
            var (trainer, model) = Create(args, lora, kind, Options);
            using var _ = trainer;
            trainer.Train();
            return (model.Trainable.SelectMany(t => t.Tensor.ToArray()).ToArray(), trainer.KlCoef);
        }
        var straight = Train("straight", interrupt: false);
        var resumed = Train("resumed", interrupt: true);
        Assert.Equal(straight.KlCoef, resumed.KlCoef);
        Assert.True(straight.Weights.AsSpan().SequenceEqual(resumed.Weights), "the resumed run trained different weights");
    }

    [Fact]
    public void Refuses_a_critic_of_the_other_kind()
    {
        var e = Assert.Throws<TrainingException>(() =>
        {
            var args = new TrainingArguments { Model = _tiny.Folder, OutputDir = _tiny.In("refused") };
            using var model = PolicyAndValue.WithSharedHead(new FullCausalLm(HuggingFaceFolder.Load(_tiny.Folder)), seed: 1);
            new PpoTrainer(args, model, Prompts, ExampleTokenizer.FromFolder(_tiny.Folder), new RewardFunctions([new RewardFunction(new LetterShare())]), new PpoOptions());
        });
        Assert.Contains("value_model", e.Message);
    }
}
