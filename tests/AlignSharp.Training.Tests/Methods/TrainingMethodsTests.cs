using AlignSharp.Models.Transformers;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;
using AlignSharp.Training.Methods;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Training.Tests.Methods;

/// <summary>The registry of training methods: names, TRL defaults, options, and the factory over in-memory examples.</summary>
public class TrainingMethodsTests : IDisposable
{
    private readonly TinyModel _tiny = new();
    public void Dispose() => _tiny.Dispose();

    [Fact]
    public void Names_print_as_recipes_spell_them_and_parse_back()
    {
        Assert.Equal(["sft", "rm", "dpo", "kto", "orpo", "simpo"], TrainingMethods.Names.Take(6));
        Assert.All(TrainingMethods.All.Skip(6), m => Assert.True(m.IsOnline, $"{m} is listed after the offline methods"));
        Assert.All(TrainingMethods.All.Take(6), m => Assert.False(m.IsOnline));
        Assert.Equal(["grpo", "rloo", "reinforce_pp", "ppo", "online_dpo"], TrainingMethods.Names.Skip(6));
        foreach (var method in TrainingMethods.All)
        {
            Assert.Equal(method.Name, method.ToString());
            Assert.Same(method, TrainingMethods.Parse(method.Name.ToUpperInvariant(), "test"));
            Assert.False(string.IsNullOrWhiteSpace(method.Description));
        }
        var e = Assert.Throws<TrainingException>(() => TrainingMethods.Parse("ppo2", "recipe.yaml:2: method"));
        Assert.Equal($"recipe.yaml:2: method: 'ppo2' is not a training method ({string.Join(" | ", TrainingMethods.Names)})", e.Message);
        Assert.Equal("sft | rm | dpo | kto | orpo | simpo | grpo | rloo | reinforce_pp | ppo | online_dpo", TrainingMethods.Choices);
    }

    [Theory]
    [InlineData("sft", 2e-5, null, "SFTConfig")]
    [InlineData("rm", 1e-4, DatasetKind.Preference, "RewardConfig")]
    [InlineData("dpo", 1e-6, DatasetKind.Preference, "DPOConfig")]
    [InlineData("kto", 1e-6, DatasetKind.UnpairedPreference, "KTOConfig")]
    [InlineData("orpo", 1e-6, DatasetKind.Preference, "ORPOConfig")]
    [InlineData("simpo", 1e-6, DatasetKind.Preference, "CPOConfig")]
    [InlineData("grpo", 1e-6, DatasetKind.PromptOnly, "GRPOConfig")]
    [InlineData("rloo", 1e-6, DatasetKind.PromptOnly, "RLOOConfig")]
    [InlineData("reinforce_pp", 1e-6, DatasetKind.PromptOnly, "REINFORCE++ (OpenRLHF)")]
    [InlineData("ppo", 5e-5, DatasetKind.PromptOnly, "PPOConfig")]
    [InlineData("online_dpo", 5e-7, DatasetKind.PromptOnly, "OnlineDPOConfig")]
    public void Each_method_carries_trls_learning_rate_its_dataset_kind_and_trl_config(string name, double learningRate, DatasetKind? kind, string trlConfig)
    {
        var method = TrainingMethods.Parse(name, "test");
        Assert.Equal((float)learningRate, method.DefaultLearningRate);
        Assert.Equal((float)learningRate, method.DefaultArguments.LearningRate);
        Assert.Equal($"runs/{name}", method.DefaultArguments.OutputDir);
        Assert.Equal(kind, method.DatasetKind);
        Assert.Equal(trlConfig, method.Trl.ConfigClass);
    }

    [Fact]
    public void A_shared_key_the_method_declares_is_the_methods()
    {
        var grpo = TrainingRecipe.Bind(Values(("method", "grpo"), ("model", "m"), ("dataset", "d"), ("max_prompt_length", "64"), ("reward_funcs", "[exact_answer, rm:runs/rm]"), ("reward_weights", "[1, 0.5]")));
        Assert.Equal(64, grpo.Options.Get<GrpoOptions>().MaxPromptLength);
        Assert.Equal(TrainingMethods.Grpo.DefaultArguments.MaxPromptLength, grpo.Arguments.MaxPromptLength);   // the shared key keeps its default
        Assert.Equal(["exact_answer", "rm:runs/rm"], grpo.Options.Get<AlignSharp.Training.Online.OnlineRewardOptions>().RewardFuncs);
        Assert.Equal([1f, 0.5f], grpo.Options.Get<AlignSharp.Training.Online.OnlineRewardOptions>().RewardWeights!);
        Assert.Single(TrainingRecipe.Keys(TrainingMethods.Grpo), k => k == "max_prompt_length");
        var dpo = TrainingRecipe.Bind(Values(("method", "dpo"), ("model", "m"), ("dataset", "d"), ("max_prompt_length", "64")));
        Assert.Equal(64, dpo.Arguments.MaxPromptLength);
        var e = Assert.Throws<TrainingException>(() => TrainingRecipe.Bind(Values(("method", "dpo"), ("model", "m"), ("dataset", "d"), ("reward_funcs", "[exact_answer]"))));
        Assert.Contains("unknown key 'reward_funcs'", e.Message);
    }

    [Fact]
    public void Options_fill_defaults_and_refuse_another_methods_records()
    {
        var options = TrainingMethods.Dpo.Options(new DpoOptions { Beta = 0.5f });
        Assert.Equal(0.5f, options.Get<DpoOptions>().Beta);
        Assert.False(options.Get<ReferenceOptions>().PrecomputeRefLogProbs);
        Assert.Empty(TrainingMethods.Sft.Options().Records);
        var e = Assert.Throws<ArgumentException>(() => TrainingMethods.Dpo.Options(new KtoOptions()));
        Assert.Contains("dpo reads no KtoOptions (it reads DpoOptions, ReferenceOptions)", e.Message);
        Assert.Throws<ArgumentException>(() => TrainingMethods.Kto.Options(new KtoOptions(), new KtoOptions()));
    }

    [Fact]
    public void Recipe_method_key_binds_and_a_different_command_line_method_is_refused_naming_both()
    {
        var values = Values(("method", "kto"), ("model", "m"), ("dataset", "d"), ("beta", "0.3"));
        var recipe = TrainingRecipe.Bind(values);
        Assert.Same(TrainingMethods.Kto, recipe.Method);
        Assert.Equal(0.3f, recipe.Options.Get<KtoOptions>().Beta);
        Assert.Equal(1e-6f, recipe.Arguments.LearningRate);
        Assert.Same(TrainingMethods.Kto, TrainingRecipe.Bind(values, TrainingMethods.Kto).Method);

        var e = Assert.Throws<TrainingException>(() => TrainingRecipe.Bind(values, TrainingMethods.Dpo));
        Assert.Equal("r.yaml:1: method: the recipe is for kto but dpo was asked for; change one of them", e.Message);
        e = Assert.Throws<TrainingException>(() => TrainingRecipe.Bind(Values(("model", "m"), ("dataset", "d"))));
        Assert.Contains("method: required", e.Message);
        // Without a recipe method the command line's is used; the method's keys bind only for that method.
        e = Assert.Throws<TrainingException>(() => TrainingRecipe.Bind(Values(("model", "m"), ("dataset", "d"), ("desirable_weight", "2")), TrainingMethods.Dpo));
        Assert.Contains("unknown key 'desirable_weight'", e.Message);
    }

    [Fact]
    public void Factory_builds_dpo_and_kto_trainers_over_in_memory_examples_and_records_their_options()
    {
        var encoder = ExampleTokenizer.FromFolder(_tiny.Folder);
        var args = new TrainingArguments
        {
            Model = _tiny.Folder, Dataset = TinyModel.Examples("preference.jsonl"), OutputDir = _tiny.In("dpo"), LearningRate = 1e-3f,
            MaxSteps = 2, PerDeviceTrainBatchSize = 2, MaxLength = 96, SaveSteps = 0,
        };
        var pairs = new JsonlDataset(args.Dataset, DatasetKind.Preference).Take(4).Cast<PreferenceRow>().Select(r => encoder.Preference(r)).ToList();
        var dpoOptions = TrainingMethods.Dpo.Options(new DpoOptions { Beta = 0.25f }, new ReferenceOptions { PrecomputeRefLogProbs = true });
        using (var dpo = TrainingMethods.Dpo.CreateTrainer(args, new FullCausalLm(HuggingFaceFolder.Load(_tiny.Folder)), EncodedExamples.ForPreference(pairs, encoder.PadId), dpoOptions))
        {
            Assert.IsType<DpoTrainer>(dpo);
            Assert.Equal(2, dpo.Train().Steps);
        }
        var settings = File.ReadAllText(Path.Combine(args.OutputDir, RunSettings.FileName));
        Assert.Contains("\"beta\": \"0.25\"", settings);
        Assert.Contains("\"precompute_ref_log_probs\": \"true\"", settings);

        var ktoArgs = args with { Dataset = TinyModel.Examples("kto.jsonl"), OutputDir = _tiny.In("kto") };
        var unpaired = new JsonlDataset(ktoArgs.Dataset, DatasetKind.UnpairedPreference).Take(4).Cast<UnpairedPreferenceRow>().Select(r => encoder.Unpaired(r)).ToList();
        using var kto = TrainingMethods.Kto.CreateTrainer(ktoArgs, new FullCausalLm(HuggingFaceFolder.Load(_tiny.Folder)), EncodedExamples.ForUnpaired(unpaired, encoder.PadId));
        Assert.IsType<KtoTrainer>(kto);
        Assert.Equal(2, kto.Train().Steps);
    }

    [Fact]
    public void Factory_refuses_examples_of_another_shape_naming_both()
    {
        var args = new TrainingArguments { Model = _tiny.Folder, Dataset = "d.jsonl", OutputDir = _tiny.In("x") };
        using var model = new FullCausalLm(HuggingFaceFolder.Load(_tiny.Folder));
        var unpaired = EncodedExamples.ForUnpaired([new UnpairedExample([1], [2], true)], 0);
        var e = Assert.Throws<ArgumentException>(() => TrainingMethods.Dpo.CreateTrainer(args, model, unpaired));
        Assert.Contains("dpo trains on preference pairs (EncodedExamples.ForPreference), not unpaired labelled completions", e.Message);
        e = Assert.Throws<ArgumentException>(() => TrainingMethods.Dpo.CreateTrainer(args, model, unpaired, TrainingMethods.Kto.Options()));
        Assert.Contains("dpo reads no KtoOptions", e.Message);
    }

    [Fact]
    public void A_run_from_recipe_values_trains_saves_the_tokenizer_and_reports_what_it_read()
    {
        var values = Values(("method", "rm"), ("model", _tiny.Folder), ("dataset", TinyModel.Examples("preference.jsonl")),
            ("eval_dataset", TinyModel.Examples("preference.jsonl")), ("output_dir", _tiny.In("rm")), ("max_steps", "2"),
            ("per_device_train_batch_size", "4"), ("max_length", "96"), ("learning_rate", "0.001"));
        using var run = TrainingRun.FromRecipe(values);
        Assert.Same(TrainingMethods.RewardModel, run.Recipe.Method);
        Assert.Null(run.Adapter);
        Assert.Equal(new JsonlDataset(TinyModel.Examples("preference.jsonl")).Count(), run.Data.Rows);
        int progress = 0;
        run.Trainer.Progress += _ => progress++;
        var outcome = run.Train();
        Assert.Equal(2, outcome.Result.Steps);
        Assert.Equal(2, progress);
        Assert.NotNull(outcome.Eval);
        Assert.Equal(run.Data.Rows, outcome.Eval!.Pairs);
        Assert.True(File.Exists(Path.Combine(_tiny.In("rm"), "tokenizer.json")));
        Assert.True(File.Exists(Path.Combine(_tiny.In("rm"), "metrics.jsonl")));
    }

    private static Dictionary<string, (string Value, string Source)> Values(params (string Key, string Value)[] pairs) =>
        pairs.Select((p, i) => (p.Key, p.Value, Source: $"r.yaml:{i + 1}")).ToDictionary(p => p.Key, p => (p.Value, p.Source));
}
