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
/// The DPO/KTO reference policy is the policy's starting point held in memory: bitwise the model its folder holds
/// (full fine-tuning: a snapshot; LoRA: the base with the adapter ignored per call), never re-read from the folder
/// that <c>model:</c> names, never made by switching the policy's adapters off and on, or a model the caller passes.
/// </summary>
public class ReferencePolicyTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-reference-" + Guid.NewGuid().ToString("N"));
    private static readonly int[] Probe = [0, 1, 2, 3, 4, 5, 6, 7];

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    private static string Examples(string name) => Path.Combine(AppContext.BaseDirectory, "Examples", name);

    /// <summary>A tiny model folder (weights from <paramref name="seed"/>) with the qwen2 fixture tokenizer and the ChatML template.</summary>
    private string ModelFolder(string name, ulong seed = 1)
    {
        string folder = Path.Combine(_dir, name);
        var tokenizer = Tokenizer.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers", "qwen2"));
        var config = ModelPresets.Get("tiny", Architecture.Llama) with { VocabSize = tokenizer.VocabSize, EosTokenIds = [tokenizer.TokenToId("<|im_end|>")!.Value] };
        using (var model = TransformerModel.Create(config, seed)) HuggingFaceFolder.Save(model, folder);
        tokenizer.Save(folder);
        new TokenizerConfig { EosToken = "<|im_end|>", ChatTemplate = BuiltInTemplates.GetSource("chatml") }.Save(folder, tokenizer);
        return folder;
    }

    private TrainingArguments Args(string model, string dataset, string output) => new()
    {
        Model = model, Dataset = Examples(dataset), OutputDir = Path.Combine(_dir, output),
        LearningRate = 5e-3f, LrSchedulerType = "constant", MaxSteps = 4, PerDeviceTrainBatchSize = 4,
        SaveSteps = 100, LoggingSteps = 1, MaxLength = 128, MaxPromptLength = 64, Seed = 3,
    };

    private static List<PreferenceExample> Pairs(ExampleTokenizer encoder) =>
        new JsonlDataset(Examples("preference.jsonl"), DatasetKind.Preference).Cast<PreferenceRow>().Select(r => encoder.Preference(r)).ToList();

    private static List<UnpairedExample> Unpaired(ExampleTokenizer encoder) =>
        new JsonlDataset(Examples("kto.jsonl"), DatasetKind.UnpairedPreference).Cast<UnpairedPreferenceRow>().Select(r => encoder.Unpaired(r)).ToList();

    /// <summary>The chosen and rejected rows of the first four pairs, as one batch.</summary>
    private static Batch Sequences(ExampleTokenizer encoder) => Collator.Preference(Pairs(encoder).Take(4).ToList(), encoder.PadId).Sequences;

    private static float[] LogProbs(TransformerModel model, Batch batch, bool withAdapters = true)
    {
        using var noGrad = Autograd.NoGrad();
        using var scope = new TensorScope();
        return SequenceLogProbs.Compute(model, batch, withAdapters).Sums.ToArray();
    }

    /// <summary>Moves every weight, as training would.</summary>
    private static void Perturb(IEnumerable<Tensor> weights, ulong seed)
    {
        var rng = new Rng(seed);
        foreach (var w in weights)
        {
            var noise = new float[w.Length];
            rng.FillNormal(noise, 0, 0.05f);
            System.Numerics.Tensors.TensorPrimitives.Add(w.Span, noise, w.Span);
        }
    }

                [Fact]
    public void Full_fine_tuning_reference_equals_the_starting_folder_bitwise_after_the_policy_moves()
    {
        string folder = ModelFolder("start");
        var encoder = ExampleTokenizer.FromFolder(folder);
        var batch = Sequences(encoder);
        using var policy = new FullCausalLm(HuggingFaceFolder.Load(folder));
        using var reference = ReferencePolicy.For(policy);
        Perturb(policy.Transformer.Parameters.Values, seed: 9);

        using var fromDisk = HuggingFaceFolder.Load(folder);
        var expected = LogProbs(fromDisk, batch);
        Assert.True(expected.AsSpan().SequenceEqual(reference.LogProbs(batch)), "the reference is not the starting model");
        Assert.False(expected.AsSpan().SequenceEqual(LogProbs(policy.Transformer, batch)), "the policy must have moved for this test to mean anything");
    }

    [Fact]
    public void Lora_reference_equals_the_base_folder_bitwise_and_leaves_the_adapters_attached()
    {
        string folder = ModelFolder("start");
        var encoder = ExampleTokenizer.FromFolder(folder);
        var batch = Sequences(encoder);
        using var policy = new LoraCausalLm(HuggingFaceFolder.Load(folder), new LoraConfig(Rank: 4, Alpha: 8, Dropout: 0.1f), seed: 2);
        Perturb(policy.Adapters.Modules.Values.Select(m => m.B), seed: 9); // a trained adapter (fresh ones have B = 0)
        using var reference = ReferencePolicy.For(policy);

        using var fromDisk = HuggingFaceFolder.Load(folder);
        var expected = LogProbs(fromDisk, batch);
        Assert.True(expected.AsSpan().SequenceEqual(reference.LogProbs(batch)), "the LoRA reference is not the base model");
        Assert.Same(policy.Adapters, policy.Transformer.Adapters);
        Assert.False(expected.AsSpan().SequenceEqual(LogProbs(policy.Transformer, batch)), "the adapter must change the policy for this test to mean anything");
    }

    [Fact]
    public void A_given_reference_is_used_as_it_is_and_stays_the_callers()
    {
        string folder = ModelFolder("start");
        var encoder = ExampleTokenizer.FromFolder(folder);
        var batch = Sequences(encoder);
        using var policy = new FullCausalLm(HuggingFaceFolder.Load(folder));
        using var given = TransformerModel.Create(policy.Transformer.Config, seed: 7);
        var expected = LogProbs(given, batch);
        using (var reference = ReferencePolicy.For(policy, given))
            Assert.True(expected.AsSpan().SequenceEqual(reference.LogProbs(batch)));
        Assert.True(expected.AsSpan().SequenceEqual(LogProbs(given, batch)), "disposing the reference policy disposed the caller's model");

        var ex = Assert.Throws<TrainingException>(() => ReferencePolicy.For(policy, policy.Transformer));
        Assert.Contains("the reference model is the policy being trained", ex.Message);
        using var otherVocabulary = TransformerModel.Create(policy.Transformer.Config with { VocabSize = policy.Transformer.Config.VocabSize + 1 }, seed: 7);
        ex = Assert.Throws<TrainingException>(() => ReferencePolicy.For(policy, otherVocabulary));
        Assert.Contains("vocab_size", ex.Message);
    }

    /// <summary>
    /// The reference is the policy's starting point, not whatever the folder named by <c>model:</c> holds: with the
    /// policy built in memory (different weights from that folder), DPO starts at its reference point, −log σ(0) = ln 2,
    /// and KTO at 1 − σ(0) = 1/2. Reading the folder (the old behaviour) gives a different loss.
    /// </summary>
    [Theory]
    [InlineData("dpo", false, false)]
    [InlineData("dpo", true, false)]
    [InlineData("dpo", false, true)]
    [InlineData("dpo", true, true)]
    [InlineData("kto", false, false)]
    [InlineData("kto", false, true)]
    public void The_reference_is_the_policy_in_memory_not_the_folder_named_by_model(string method, bool precompute, bool lora)
    {
        string folder = ModelFolder("named-by-model", seed: 1);
        var encoder = ExampleTokenizer.FromFolder(folder);
        var inMemory = TransformerModel.Create(HuggingFaceFolder.ReadConfig(folder), seed: 7);
        TrainableModel model = lora ? new LoraCausalLm(inMemory, new LoraConfig(Rank: 4, Alpha: 8), seed: 2) : new FullCausalLm(inMemory);
        var args = Args(folder, method == "dpo" ? "preference.jsonl" : "kto.jsonl", "out");
        using Trainer trainer = method == "dpo"
            ? new DpoTrainer(args, model, Pairs(encoder), encoder.PadId, new DpoOptions(), precompute)
            : new KtoTrainer(args, model, Unpaired(encoder), encoder.PadId, new KtoOptions());
        Assert.Equal(method == "dpo" ? Math.Log(2) : 0.5, trainer.Evaluate(Probe), 5);
    }

    /// <summary>Nothing reads the model folder once the policy is in memory: a run whose folder is gone trains and saves.</summary>
    [Theory]
    [InlineData("dpo", false)]
    [InlineData("dpo", true)]
    [InlineData("kto", false)]
    public void A_run_whose_starting_folder_is_deleted_still_trains(string method, bool precompute)
    {
        string folder = ModelFolder("deleted");
        var encoder = ExampleTokenizer.FromFolder(folder);
        var model = new FullCausalLm(HuggingFaceFolder.Load(folder));
        var before = model.Trainable.ToDictionary(t => t.Name, t => t.Tensor.ToArray());
        var args = Args(folder, method == "dpo" ? "preference.jsonl" : "kto.jsonl", "out");
        var pairs = Pairs(encoder);
        var unpaired = Unpaired(encoder);
        Directory.Delete(folder, true);

        using Trainer trainer = method == "dpo"
            ? new DpoTrainer(args, model, pairs, encoder.PadId, new DpoOptions(), precompute)
            : new KtoTrainer(args, model, unpaired, encoder.PadId, new KtoOptions());
        var result = trainer.Train();
        Assert.Equal(4, result.Steps);
        Assert.True(File.Exists(Path.Combine(args.OutputDir, "model.safetensors")));
        Assert.Contains(model.Trainable, t => !before[t.Name].SequenceEqual(t.Tensor.ToArray()));
    }

    [Fact]
    public void A_given_reference_replaces_the_starting_weights()
    {
        string folder = ModelFolder("start");
        var encoder = ExampleTokenizer.FromFolder(folder);
        using var given = TransformerModel.Create(HuggingFaceFolder.ReadConfig(folder), seed: 7);
        var args = Args(folder, "preference.jsonl", "out");
        double Loss(TransformerModel? reference)
        {
            using var trainer = new DpoTrainer(args, new FullCausalLm(HuggingFaceFolder.Load(folder)), Pairs(encoder), encoder.PadId, new DpoOptions(), reference: reference);
            return trainer.Evaluate(Probe);
        }
        Assert.Equal(Math.Log(2), Loss(null), 5);
        Assert.NotEqual(Math.Log(2), Loss(given), 3);
        Assert.Equal(Loss(given), Loss(given)); // and it is still usable after the first trainer is disposed
    }

    /// <summary>
    /// A LoRA DPO step scores the reference with the adapter ignored for that call, never by detaching it: another
    /// thread reading the model for the whole run (here, continuously) sees the adapter attached at every read.
    /// </summary>
    [Fact]
    public void A_lora_dpo_run_never_detaches_the_policys_adapter()
    {
        string folder = ModelFolder("start");
        var encoder = ExampleTokenizer.FromFolder(folder);
        var model = new LoraCausalLm(HuggingFaceFolder.Load(folder), new LoraConfig(Rank: 4, Alpha: 8, Dropout: 0.1f), seed: 2);
        var args = Args(folder, "preference.jsonl", "out");
        using var trainer = new DpoTrainer(args, model, Pairs(encoder), encoder.PadId, new DpoOptions());

        long reads = 0, detached = 0;
        using var started = new ManualResetEventSlim();
        bool done = false;
        var watcher = new Thread(() =>
        {
            while (!Volatile.Read(ref done))
            {
                if (!ReferenceEquals(model.Transformer.Adapters, model.Adapters)) detached++;
                if (++reads == 1) started.Set();
            }
        });
        watcher.Start();
        started.Wait();
        try { trainer.Train(); }
        finally { Volatile.Write(ref done, true); watcher.Join(); }
        Assert.True(reads > 1);
        Assert.Equal(0, detached);
    }
}
