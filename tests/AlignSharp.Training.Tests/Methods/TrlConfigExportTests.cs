using System.Text.Json;
using AlignSharp.Training.Data;
using AlignSharp.Training.Methods;

namespace AlignSharp.Training.Tests.Methods;

/// <summary>
/// `export trl`: every TRL field name written exists in TRL's config classes (tools/fixtures/trl_config_fields.json, read
/// from TRL's source), each recipe key either maps or is listed, and the values keep the recipe's meaning.
/// </summary>
public class TrlConfigExportTests : IDisposable
{
    private readonly TinyModel _tiny = new();
    public void Dispose() => _tiny.Dispose();

    private static string Repo([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", ".."));

    /// <summary>Class name → (fields, deprecated fields), from the fixture.</summary>
    private static readonly Dictionary<string, (HashSet<string> Fields, HashSet<string> Deprecated)> Fixture = LoadFixture();

    private static Dictionary<string, (HashSet<string>, HashSet<string>)> LoadFixture()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repo(), "tools", "fixtures", "trl_config_fields.json")));
        return doc.RootElement.GetProperty("classes").EnumerateObject().ToDictionary(c => c.Name, c => (
            c.Value.GetProperty("fields").EnumerateArray().Select(f => f.GetString()!).ToHashSet(),
            c.Value.GetProperty("deprecated").EnumerateArray().Select(f => f.GetString()!).ToHashSet()));
    }

    /// <summary>Recipes that reach every branch of the mapping: defaults, then every key set away from its default.</summary>
    public static TheoryData<string, string[]> Recipes()
    {
        var data = new TheoryData<string, string[]>();
        string[] shared =
        [
            "output_dir=out", "learning_rate=0.0003", "lr_scheduler_type=constant", "warmup_ratio=0.1", "num_train_epochs=2", "max_steps=7",
            "per_device_train_batch_size=3", "gradient_accumulation_steps=2", "max_grad_norm=0.5", "optim=sgd", "weight_decay=0.01",
            "adam_beta1=0.8", "adam_beta2=0.99", "adam_epsilon=1e-6", "seed=9", "logging_steps=3", "save_steps=0", "save_total_limit=0",
            "resume=true", "resume_override=[learning_rate]", "overwrite_output_dir=true", "max_length=200", "max_prompt_length=100",
            "truncation_mode=keep_start", "packing=true", "completion_only_loss=false", "assistant_only_loss=true", "skip_bad_rows=true",
            "chat_template=chatml", "use_peft=true", "lora_r=4", "lora_alpha=8", "lora_dropout=0.1", "lora_target_modules=[q_proj, v_proj]",
            "use_rslora=true", "threads=2", "base_model=b", "eval_dataset=e.jsonl",
        ];
        string[] own(string method) => method switch
        {
            "dpo" => ["beta=0.2", "loss_type=robust", "label_smoothing=0.1", "rpo_alpha=0.5", "precompute_ref_log_probs=true"],
            "kto" => ["beta=0.2", "desirable_weight=1.2", "undesirable_weight=0.9"],
            "orpo" => ["beta=0.2"],
            "simpo" => ["beta=2", "simpo_gamma=1", "cpo_alpha=0", "label_smoothing=0.1"],
            "rm" => ["center_rewards_coefficient=0.01"],
            _ => [],
        };
        foreach (var method in TrainingMethods.All.Where(m => !m.IsOnline).Select(m => m.Name))   // online methods are refused (test below)
        {
            data.Add(method, []);
            data.Add(method, [.. shared, .. own(method)]);
        }
        data.Add("dpo", ["loss_type=cdpo", "label_smoothing=0.1", "rpo_alpha=1"]);
        data.Add("dpo", ["lr_scheduler_type=constant", "warmup_steps=5", "save_steps=20"]);
        return data;
    }

    private static TrainingRecipe Recipe(string method, IEnumerable<string> sets, out HashSet<string> explicitKeys)
    {
        var values = AlignSharp.Training.Config.RecipeFile.Read(null, ["model=m", "dataset=d.jsonl", $"method={method}", .. sets]);
        explicitKeys = values.Keys.ToHashSet();
        return TrainingRecipe.Bind(values);
    }

    [Theory]
    [MemberData(nameof(Recipes))]
    public void Every_name_written_is_a_current_field_of_the_classes_trls_script_parses(string method, string[] sets)
    {
        var recipe = Recipe(method, sets, out var explicitKeys);
        foreach (var kind in new DatasetKind?[] { DatasetKind.PromptCompletion, DatasetKind.LanguageModeling })
        {
            var config = TrlConfigExport.Map(recipe, explicitKeys, "out/data", withEval: true, kind);
            var classes = TrlConfigExport.ParsedClasses(recipe.Method);
            Assert.All(classes, c => Assert.True(Fixture.ContainsKey(c), $"the fixture has no {c}"));
            foreach (var field in config.Fields)
            {
                var owners = classes.Where(c => Fixture[c].Fields.Contains(field.Name)).ToList();
                Assert.True(owners.Count > 0, $"{method}: '{field.Name}' is a field of none of {string.Join(", ", classes)}");
                Assert.False(owners.All(c => Fixture[c].Deprecated.Contains(field.Name)), $"{method}: '{field.Name}' is deprecated in {string.Join(", ", owners)}");
            }
            Assert.Equal(config.Fields.Count, config.Fields.Select(f => f.Name).Distinct().Count());
        }
    }

    [Theory]
    [MemberData(nameof(Recipes))]
    public void Every_key_the_recipe_sets_is_either_written_or_listed(string method, string[] sets)
    {
        var recipe = Recipe(method, sets, out var explicitKeys);
        var config = TrlConfigExport.Map(recipe, explicitKeys, "out/data", withEval: false, DatasetKind.PromptCompletion);
        var names = config.Fields.Select(f => f.Name).ToHashSet();
        // Keys that are written under another name, or fold into another field.
        var written = new Dictionary<string, string>
        {
            ["model"] = "model_name_or_path", ["dataset"] = "dataset_name", ["eval_dataset"] = "dataset_name", ["warmup_ratio"] = "warmup_steps",
            ["save_steps"] = recipe.Arguments.SaveSteps > 0 ? "save_steps" : "save_strategy", ["chat_template"] = "chat_template_path",
            ["rpo_alpha"] = "loss_weights", ["loss_type"] = "loss_type",
        };
        foreach (var key in explicitKeys.Where(k => k != "method"))
        {
            bool listed = config.Unmapped.Any(u => u.Key == key);
            bool mapped = names.Contains(written.GetValueOrDefault(key, key));
            Assert.True(listed || mapped, $"{method}: recipe key '{key}' is neither written nor listed");
        }
        var yaml = config.ToYaml(["header"]);
        foreach (var u in config.Unmapped) Assert.Contains($"#   {u.Key}: {u.Value} — {u.Reason}", yaml);
    }

    [Fact]
    public void Values_keep_the_recipes_meaning()
    {
        string Field(TrlConfig c, string name) => TrlConfig.Yaml(c.Fields.Single(f => f.Name == name).Value);
        var dpo = TrlConfigExport.Map(Recipe("dpo", ["rpo_alpha=0.5", "loss_type=ipo", "warmup_ratio=0.1", "lr_scheduler_type=constant", "save_steps=0", "adam_epsilon=1e-6"], out var keys), keys, "o/data", false);
        Assert.Equal("[\"ipo\", \"sft\"]", Field(dpo, "loss_type"));   // RPO is current TRL's "sft" loss term weighted by rpo_alpha
        Assert.Equal("[1.0, 0.5]", Field(dpo, "loss_weights"));
        Assert.Equal("0.1", Field(dpo, "warmup_steps"));               // transformers 5 reads a warmup_steps below 1 as a ratio
        Assert.Equal("\"constant_with_warmup\"", Field(dpo, "lr_scheduler_type"));
        Assert.Equal("\"no\"", Field(dpo, "save_strategy"));
        Assert.Equal("1.0e-06", Field(dpo, "adam_epsilon"));           // PyYAML reads 1E-06 as a string
        Assert.Equal("1.0e-06", Field(dpo, "learning_rate"));          // DPOConfig's TRL default, spelled out
        Assert.DoesNotContain(dpo.Fields, f => f.Name == "lora_r");     // LoRA settings only with use_peft

        var simpo = TrlConfigExport.Map(Recipe("simpo", ["beta=2", "cpo_alpha=0"], out keys), keys, "o/data", false);
        Assert.Equal("\"simpo\"", Field(simpo, "loss_type"));
        Assert.Equal(("2.0", "0.0"), (Field(simpo, "beta"), Field(simpo, "cpo_alpha")));

        var rm = TrlConfigExport.Map(Recipe("rm", ["use_peft=true", "lora_alpha=16"], out keys), keys, "o/data", true);
        Assert.Equal("\"SEQ_CLS\"", Field(rm, "lora_task_type"));
        Assert.Equal("16", Field(rm, "lora_alpha"));                   // ModelConfig.lora_alpha is an int
        Assert.Equal(("\"test\"", "\"epoch\""), (Field(rm, "dataset_test_split"), Field(rm, "eval_strategy")));

        var cdpo = TrlConfigExport.Map(Recipe("dpo", ["loss_type=cdpo", "label_smoothing=0.2"], out keys), keys, "o/data", false);
        Assert.Equal(["label_smoothing", "loss_type"], cdpo.Unmapped.Select(u => u.Key).Order());
        Assert.DoesNotContain(cdpo.Fields, f => f.Name is "loss_type" or "label_smoothing");
    }

    [Fact]
    public void Yaml_scalars_read_back_as_their_types_in_pyyaml()
    {
        Assert.Equal("2.0", TrlConfig.Yaml(2f));
        Assert.Equal("0.0005", TrlConfig.Yaml(0.0005f));
        Assert.Equal("1.0e-08", TrlConfig.Yaml(1e-8f));
        Assert.Equal("1.5e+20", TrlConfig.Yaml(1.5e20f));
        Assert.Equal("-1", TrlConfig.Yaml(-1));
        Assert.Equal("null", TrlConfig.Yaml(null));
        Assert.Equal("\"a \\\"b\\\" ü\"", TrlConfig.Yaml("a \"b\" ü"));
        Assert.Equal("[\"q_proj\", \"v_proj\"]", TrlConfig.Yaml(new[] { "q_proj", "v_proj" }));
    }

    [Fact]
    public void Export_writes_normalised_data_the_config_and_drops_a_stale_test_split()
    {
        string bad = _tiny.In("bad.jsonl");
        File.WriteAllLines(bad, [.. File.ReadLines(TinyModel.Examples("kto.jsonl")).Take(3), "{\"prompt\": \"x\"}", ""]);
        string outDir = _tiny.In("export");
        var export = TrlConfigExport.Export(AlignSharp.Training.Config.RecipeFile.Read(null,
            ["method=kto", "model=m", $"dataset={bad}", "skip_bad_rows=true", $"eval_dataset={TinyModel.Examples("kto.jsonl")}"]), outDir);
        Assert.Equal([(3, 1), (new JsonlDataset(TinyModel.Examples("kto.jsonl")).Count(), 0)], export.Datasets.Select(d => (d.Rows, d.SkippedRows)));
        var written = new JsonlDataset(Path.Combine(outDir, "data", "train.jsonl"), DatasetKind.UnpairedPreference).ToList();
        var original = new JsonlDataset(bad, DatasetKind.UnpairedPreference, skipBadRows: true).ToList();
        Assert.Equal(original.Select(TrlJsonlWriter.ToJson), written.Select(TrlJsonlWriter.ToJson));
        Assert.All(File.ReadLines(Path.Combine(outDir, "data", "train.jsonl")), l => Assert.Equal(["prompt", "completion", "label"],
            JsonDocument.Parse(l).RootElement.EnumerateObject().Select(p => p.Name)));
        string yaml = File.ReadAllText(Path.Combine(outDir, TrlConfigExport.ConfigFile));
        Assert.Contains("#   skip_bad_rows: true — applied by the export", yaml);
        Assert.Contains("dataset_test_split: \"test\"", yaml);
        Assert.Equal(["pip install trl peft", $"trl kto --config {Path.Combine(outDir, "trl_config.yaml")}"], export.HandOff);

        // A later export without eval_dataset must not leave the earlier test split for load_dataset to find.
        TrlConfigExport.Export(AlignSharp.Training.Config.RecipeFile.Read(null, ["method=kto", "model=m", $"dataset={TinyModel.Examples("kto.jsonl")}"]), outDir);
        Assert.False(File.Exists(Path.Combine(outDir, "data", "test.jsonl")));
        Assert.DoesNotContain("dataset_test_split", File.ReadAllText(Path.Combine(outDir, TrlConfigExport.ConfigFile)));
    }

    [Theory]
    [InlineData("sft.jsonl", DatasetKind.LanguageModeling)]
    [InlineData("preference.jsonl", DatasetKind.Preference)]
    [InlineData("preference_chat.jsonl", DatasetKind.Preference)]
    [InlineData("kto.jsonl", DatasetKind.UnpairedPreference)]
    public void Rows_written_read_back_the_same(string file, DatasetKind kind)
    {
        var rows = new JsonlDataset(TinyModel.Examples(file)).ToList();
        string path = _tiny.In(file);
        File.WriteAllLines(path, rows.Select(TrlJsonlWriter.ToJson));
        var back = new JsonlDataset(path, kind).ToList();
        Assert.Equal(rows.Select(TrlJsonlWriter.ToJson), back.Select(TrlJsonlWriter.ToJson));
        Assert.Equal(rows.Select(r => r.IsConversational), back.Select(r => r.IsConversational));
    }

    [Fact]
    public void Sft_export_refuses_rows_sft_cannot_read_and_writes_nothing()
    {
        string outDir = _tiny.In("sft-export");
        var e = Assert.Throws<TrainingException>(() => TrlConfigExport.Export(
            AlignSharp.Training.Config.RecipeFile.Read(null, ["method=sft", "model=m", $"dataset={TinyModel.Examples("preference.jsonl")}"]), outDir));
        Assert.Contains("sft reads language-modeling or prompt-completion rows, not preference", e.Message);
        Assert.False(Directory.Exists(outDir));
    }

    /// <summary>Online methods' rewards are AlignSharp signal sources TRL cannot load: export refuses them in one line, writing nothing.</summary>
    [Fact]
    public void Online_methods_are_refused_in_one_line_naming_what_to_do_instead()
    {
        Assert.Contains(TrainingMethods.All, m => m.IsOnline);
        foreach (var method in TrainingMethods.All.Where(m => m.IsOnline))
        {
            string outDir = _tiny.In($"{method}-export");
            var e = Assert.Throws<TrainingException>(() => TrlConfigExport.Export(AlignSharp.Training.Config.RecipeFile.Read(null,
                [$"method={method}", "model=m", $"dataset={TinyModel.Examples("prompts.jsonl")}", "reward_funcs=[exact_answer]"]), outDir));
            Assert.StartsWith($"export trl: {method} is an online method", e.Message);
            Assert.Contains($"alignsharp train {method}", e.Message);
            Assert.Contains(method.Trl.ConfigClass, e.Message);
            Assert.DoesNotContain('\n', e.Message);
            Assert.False(Directory.Exists(outDir));
            Assert.Throws<TrainingException>(() => TrlConfigExport.Map(Recipe(method.Name, ["reward_funcs=[exact_answer]"], out var keys), keys, "o/data", false));
        }
    }
}
