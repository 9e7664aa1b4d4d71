using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Lora;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Training.Tests.Trainers;

/// <summary>
/// Every trainer on a tiny model: the loss falls, every trainable parameter changes and frozen ones do not; and a
/// run killed after a checkpoint and resumed ends with bitwise the same weights as an uninterrupted run.
/// </summary>
public class TrainerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-trainer-" + Guid.NewGuid().ToString("N"));
    private static string Examples(string name) => Path.Combine(AppContext.BaseDirectory, "Examples", name);

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    /// <summary>A tiny model folder with the qwen2 fixture tokenizer and the ChatML template.</summary>
    private string ModelFolder(Architecture arch = Architecture.Llama)
    {
        string folder = Path.Combine(_dir, "base-" + arch);
        if (Directory.Exists(folder)) return folder;
        var tokenizer = Tokenizer.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers", "qwen2"));
        var config = ModelPresets.Get("tiny", arch) with { VocabSize = tokenizer.VocabSize, EosTokenIds = [tokenizer.TokenToId("<|im_end|>")!.Value] };
        using (var model = TransformerModel.Create(config, seed: 1)) HuggingFaceFolder.Save(model, folder);
        tokenizer.Save(folder);
        new TokenizerConfig { EosToken = "<|im_end|>", ChatTemplate = BuiltInTemplates.GetSource("chatml") }.Save(folder, tokenizer);
        return folder;
    }

    private TrainingArguments Args(string name, string dataset, Architecture arch = Architecture.Llama) => new()
    {
        Model = ModelFolder(arch), Dataset = Examples(dataset), OutputDir = Path.Combine(_dir, name),
        LearningRate = 5e-3f, LrSchedulerType = "constant", MaxSteps = 8, PerDeviceTrainBatchSize = 4,
        SaveSteps = 4, LoggingSteps = 1, MaxLength = 128, MaxPromptLength = 64, Seed = 3,
    };

    /// <summary>Trains, returning the objective on a fixed set of examples before and after (per-step losses are noisy mini-batches).</summary>
    private static ((double Before, double After) Losses, Dictionary<string, float[]> Before) Run(Trainer trainer, TrainableModel model)
    {
        var before = model.Trainable.ToDictionary(t => t.Name, t => t.Tensor.ToArray());
        int[] probe = [0, 1, 2, 3, 4, 5, 6, 7];
        double first = trainer.Evaluate(probe);
        trainer.Train();
        return ((first, trainer.Evaluate(probe)), before);
    }

    private static void AssertLearned(TrainableModel model, (double Before, double After) losses, Dictionary<string, float[]> before, string what)
    {
        Assert.True(losses.After < losses.Before, $"{what}: loss did not fall ({losses.Before:F4} → {losses.After:F4})");
        foreach (var (name, tensor) in model.Trainable)
            Assert.False(before[name].SequenceEqual(tensor.ToArray()), $"{what}: trainable parameter {name} did not change");
    }

    private static ExampleTokenizer Encoder(string folder) => ExampleTokenizer.FromFolder(folder);

    [Fact]
    public void Sft_learns_assistant_turns()
    {
        var args = Args("sft", "sft.jsonl") with { AssistantOnlyLoss = true };
        var encoder = Encoder(args.Model);
        var examples = new JsonlDataset(args.Dataset).Select(r => encoder.Sft(r, new SftOptions { MaxLength = 128, AssistantOnlyLoss = true })).ToList();
        var model = new FullCausalLm(HuggingFaceFolder.Load(args.Model));
        using var trainer = new SftTrainer(args, model, examples, encoder.PadId, encoder.EosId);
        var (losses, before) = Run(trainer, model);
        AssertLearned(model, losses, before, "sft");
        Assert.True(File.Exists(Path.Combine(args.OutputDir, "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(args.OutputDir, "checkpoint-8", "trainer_state.json")));
    }

    [Fact]
    public void Sft_with_packing_and_lora_keeps_the_base_frozen()
    {
        var args = Args("sft-lora", "sft.jsonl") with { Packing = true, MaxLength = 96, UsePeft = true };
        var encoder = Encoder(args.Model);
        var examples = new JsonlDataset(args.Dataset).Select(r => encoder.Sft(r)).ToList();
        var base_ = HuggingFaceFolder.Load(args.Model);
        var frozen = base_.Parameters.ToDictionary(p => p.Key, p => p.Value.ToArray());
        var model = new LoraCausalLm(base_, new LoraConfig(Rank: 4, Alpha: 8, Dropout: 0.1f), seed: 2);
        using var trainer = new SftTrainer(args, model, examples, encoder.PadId, encoder.EosId);
        var (losses, before) = Run(trainer, model);
        AssertLearned(model, losses, before, "sft+lora");
        foreach (var (name, p) in base_.Parameters) Assert.Equal(frozen[name], p.ToArray());
        Assert.True(File.Exists(Path.Combine(args.OutputDir, "adapter_model.safetensors")));
    }

    [Fact]
    public void Reward_model_learns_the_preferences()
    {
        var args = Args("rm", "preference.jsonl");
        var encoder = Encoder(args.Model);
        var pairs = new JsonlDataset(args.Dataset, DatasetKind.Preference).Cast<PreferenceRow>().Select(r => encoder.Preference(r)).ToList();
        var model = new RewardModelTrainable(ValueHeadModel.Create(HuggingFaceFolder.Load(args.Model), seed: 1));
        using var trainer = new RewardModelTrainer(args, model, pairs, encoder.PadId, new RewardModelOptions());
        var (losses, before) = Run(trainer, model);
        AssertLearned(model, losses, before, "rm");
        Assert.True(trainer.Accuracy(pairs) > 0.5);
    }

    public static TheoryData<string> PreferenceMethods => new() { "dpo", "dpo-ipo", "orpo", "simpo" };

    [Theory, MemberData(nameof(PreferenceMethods))]
    public void Preference_trainers_learn(string method)
    {
        var args = Args(method, "preference.jsonl");
        var encoder = Encoder(args.Model);
        var pairs = new JsonlDataset(args.Dataset, DatasetKind.Preference).Cast<PreferenceRow>().Select(r => encoder.Preference(r)).ToList();
        var model = new FullCausalLm(HuggingFaceFolder.Load(args.Model));
        using Trainer trainer = method switch
        {
            "dpo" => new DpoTrainer(args, model, pairs, encoder.PadId, new DpoOptions { Beta = 0.5f }),
            "dpo-ipo" => new DpoTrainer(args, model, pairs, encoder.PadId, new DpoOptions { LossType = DpoLossType.Ipo, Beta = 0.5f }, precomputeReferenceLogProbs: true),
            "orpo" => new OrpoTrainer(args, model, pairs, encoder.PadId, new OrpoOptions()),
            _ => new SimPoTrainer(args, model, pairs, encoder.PadId, new SimPoOptions()),
        };
        var (losses, before) = Run(trainer, model);
        AssertLearned(model, losses, before, method);
    }

    [Fact]
    public void Kto_with_lora_learns_from_unpaired_labels()
    {
        var args = Args("kto", "kto.jsonl") with { UsePeft = true };
        var encoder = Encoder(args.Model);
        var examples = new JsonlDataset(args.Dataset, DatasetKind.UnpairedPreference).Cast<UnpairedPreferenceRow>().Select(r => encoder.Unpaired(r)).ToList();
        var base_ = HuggingFaceFolder.Load(args.Model);
        var frozen = base_.Parameters.ToDictionary(p => p.Key, p => p.Value.ToArray());
        var model = new LoraCausalLm(base_, new LoraConfig(Rank: 4, Alpha: 8), seed: 2);
        using var trainer = new KtoTrainer(args, model, examples, encoder.PadId, new KtoOptions { Beta = 0.5f });
        var (losses, before) = Run(trainer, model);
        AssertLearned(model, losses, before, "kto");
        foreach (var (name, p) in base_.Parameters) Assert.Equal(frozen[name], p.ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Killed_and_resumed_run_ends_bitwise_equal(bool lora)
    {
        float[] Train(string name, bool interrupt)
        {
            var args = Args(name, "preference.jsonl") with { GradientAccumulationSteps = 2, LrSchedulerType = "cosine", WarmupSteps = 2, UsePeft = lora };
            var encoder = Encoder(args.Model);
            var pairs = new JsonlDataset(args.Dataset, DatasetKind.Preference).Cast<PreferenceRow>().Select(r => encoder.Preference(r)).ToList();
            TrainableModel Model()
            {
                var m = HuggingFaceFolder.Load(args.Model);
                return lora ? new LoraCausalLm(m, new LoraConfig(Rank: 4, Alpha: 8, Dropout: 0.2f), seed: 5) : new FullCausalLm(m);
            }
            if (interrupt)
            {
                using var cts = new CancellationTokenSource();
                var first = Model();
                using (var trainer = new DpoTrainer(args, first, pairs, encoder.PadId, new DpoOptions()))
                {
                    trainer.Progress += p => { if (p.Step == 5) cts.Cancel(); }; // killed after step 5; the last checkpoint is step 4
                    Assert.Throws<OperationCanceledException>(() => trainer.Train(cts.Token));
                }
                args = args with { Resume = true };
            }
            var model = Model();
            using var resumed = new DpoTrainer(args, model, pairs, encoder.PadId, new DpoOptions());
            resumed.Train();
            return model.Trainable.SelectMany(t => t.Tensor.ToArray()).ToArray();
        }
        var straight = Train("straight", interrupt: false);
        var resumed = Train("resumed", interrupt: true);
        Assert.Equal(straight, resumed);
    }

    [Fact]
    public void Training_is_bitwise_identical_for_any_thread_count()
    {
        float[] Train(string name, int threads)
        {
            using var pool = new WorkerPool(threads);
            using var scope = WorkerPool.Use(pool);
            var args = Args(name, "preference.jsonl") with { MaxSteps = 4 };
            var encoder = Encoder(args.Model);
            var pairs = new JsonlDataset(args.Dataset, DatasetKind.Preference).Cast<PreferenceRow>().Select(r => encoder.Preference(r)).ToList();
            var model = new FullCausalLm(HuggingFaceFolder.Load(args.Model));
            using var trainer = new DpoTrainer(args, model, pairs, encoder.PadId, new DpoOptions());
            trainer.Train();
            return model.Trainable.SelectMany(t => t.Tensor.ToArray()).ToArray();
        }
        var one = Train("one-thread", 1);
        foreach (int threads in new[] { 2, 3 })
            Assert.True(one.AsSpan().SequenceEqual(Train($"{threads}-threads", threads)), $"1 and {threads} threads trained different weights");
    }

    /// <summary>Every tensor of every .safetensors file in a checkpoint (weights and optimizer state) is finite.</summary>
    private static void AssertFinite(string checkpoint)
    {
        foreach (var file in Directory.EnumerateFiles(checkpoint, "*.safetensors"))
        {
            using var st = AlignSharp.Models.Checkpoints.SafetensorsFile.Open(file);
            foreach (var name in st.Tensors.Keys)
                Assert.True(st.ReadFloat32(name).All(float.IsFinite), $"{file}: '{name}' holds NaN or infinite values");
        }
    }

    [Fact]
    public void Nan_gradient_stop_keeps_only_finite_checkpoints()
    {
        // At learning rate 1e7 the loss stays finite while the gradient of step 6 is NaN: the old loop applied it and
        // saved checkpoint-6 with NaN weights and Adam moments, then stopped at step 7 naming that checkpoint.
        var args = Args("nan", "sft.jsonl") with { LearningRate = 1e7f, SaveSteps = 1, SaveTotalLimit = 0, MaxSteps = 12 };
        var encoder = Encoder(args.Model);
        var examples = new JsonlDataset(args.Dataset).Select(r => encoder.Sft(r)).ToList();
        using var trainer = new SftTrainer(args, new FullCausalLm(HuggingFaceFolder.Load(args.Model)), examples, encoder.PadId, encoder.EosId);
        var message = Assert.Throws<TrainingException>(() => trainer.Train()).Message;
        var checkpoints = Checkpoints.All(args.OutputDir).ToList();
        Assert.NotEmpty(checkpoints);
        foreach (var (_, path) in checkpoints) AssertFinite(path);
        Assert.Contains($"The last good checkpoint is {checkpoints[^1].Path}:", message);
    }

    [Fact]
    public void Overflowing_update_stops_before_any_checkpoint_of_it_and_resumes_with_a_lower_learning_rate()
    {
        // Warmup makes the first update use rate 0; the second, at 1e38 with weight decay, sends the weights to
        // infinity while its loss was finite. The old loop saved them as checkpoint-2 and every resume failed at step 3.
        var args = Args("overflow", "sft.jsonl") with { LearningRate = 1e38f, WeightDecay = 100, WarmupSteps = 1, SaveSteps = 1, SaveTotalLimit = 0 };
        var encoder = Encoder(args.Model);
        var examples = new JsonlDataset(args.Dataset).Select(r => encoder.Sft(r)).ToList();
        string message;
        using (var trainer = new SftTrainer(args, new FullCausalLm(HuggingFaceFolder.Load(args.Model)), examples, encoder.PadId, encoder.EosId))
            message = Assert.Throws<TrainingException>(() => trainer.Train()).Message;
        Assert.StartsWith("step 2: the update at learning rate 1E+38 made", message);
        var checkpoints = Checkpoints.All(args.OutputDir).ToList();
        foreach (var (_, path) in checkpoints) AssertFinite(path);
        Assert.Equal([1L], checkpoints.Select(c => c.Step));
        Assert.Contains($"The last good checkpoint is {checkpoints[^1].Path}: resume from it with a lower learning_rate (resume: true, resume_override: [learning_rate])", message);

        // Resuming with another learning rate is refused unless the key is named; named, it trains to the end.
        var resume = args with { Resume = true, LearningRate = 1e-3f };
        using (var refused = new SftTrainer(resume, new FullCausalLm(HuggingFaceFolder.Load(args.Model)), examples, encoder.PadId, encoder.EosId))
            Assert.Contains("learning_rate: 0.001 (the run was started with 1E+38)", Assert.Throws<TrainingException>(() => refused.Train()).Message);
        using var resumed = new SftTrainer(resume with { ResumeOverride = ["learning_rate"] }, new FullCausalLm(HuggingFaceFolder.Load(args.Model)), examples, encoder.PadId, encoder.EosId);
        var start = resumed.PrepareRun();
        Assert.Equal(checkpoints[^1].Path, start.Checkpoint);
        Assert.True(start.EarlierElapsed > TimeSpan.Zero, "the checkpoint does not record the training time before it");
        var result = resumed.Train();
        Assert.Equal(8, result.Steps);
        Assert.True(result.Elapsed >= start.EarlierElapsed, "the reported time leaves out the run's earlier part");
        Assert.True(double.IsFinite(result.FinalLoss));
        foreach (var (_, path) in Checkpoints.All(args.OutputDir)) AssertFinite(path);
    }
}
