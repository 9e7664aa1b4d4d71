using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Lora;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training;
using AlignSharp.Training.Config;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;
using AlignSharp.Training.Metrics;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Cli;

/// <summary>`alignsharp train sft|rm|dpo|kto|orpo|simpo --config FILE.yaml [--set key=value ...]`.</summary>
internal static class TrainCommand
{
    /// <summary>Options only DPO reads beside <see cref="DpoOptions"/>.</summary>
    internal sealed record ReferenceOptions
    {
        [System.ComponentModel.Description("compute the reference model's log-probabilities once before training and free the reference model")]
        public bool PrecomputeRefLogProbs { get; init; }
    }

    internal static readonly string[] Methods = ["sft", "rm", "dpo", "kto", "orpo", "simpo"];

    internal const string Summary = "train on a TRL-format JSONL dataset; checkpoints, metrics.jsonl and TensorBoard logs go to output_dir; " +
        "`train METHOD --help` lists every recipe key with its default and meaning";

    private static readonly Dictionary<string, string> MethodNames = new()
    {
        ["sft"] = "supervised fine-tuning (TRL's SFTTrainer)", ["rm"] = "a reward model on preference pairs (Bradley–Terry; TRL's RewardTrainer)",
        ["dpo"] = "Direct Preference Optimization (Rafailov et al. 2023; TRL's DPOTrainer)", ["kto"] = "Kahneman–Tversky Optimization on unpaired labels (Ethayarajh et al. 2024)",
        ["orpo"] = "Odds Ratio Preference Optimization, no reference model (Hong et al. 2024)", ["simpo"] = "Simple Preference Optimization, length-normalised, no reference model (Meng et al. 2024)",
    };

    /// <summary>One spec per method: the options, and every recipe key (shared, then the method's) under --help.</summary>
    internal static readonly CommandSpec[] Specs = Methods.Select(method => new CommandSpec($"train {method}", "--config FILE.yaml [--set key=value ...]",
        $"train {MethodNames[method]} on a TRL-format JSONL dataset; checkpoints, metrics.jsonl and TensorBoard logs go to output_dir",
        new OptionSpec("config", "FILE.yaml", "the recipe: flat snake_case keys as listed below"),
        new OptionSpec("set", "key=value", "override one recipe key (repeatable; wins over the file)"))
    {
        Details = () => Keys(method),
    }).ToArray();

    /// <summary>Recipe keys of <paramref name="method"/>: those all trainers share, then the method's own.</summary>
    private static IEnumerable<string> Keys(string method)
    {
        yield return "recipe keys (YAML or --set), with their defaults:";
        foreach (var line in ConfigBinder.Describe(Defaults(method))) yield return line;
        var own = MethodOptions(method);
        if (own.Length > 0)
        {
            yield return "";
            yield return $"{method} keys:";
            foreach (var opt in own)
                foreach (var line in ConfigBinder.Describe(opt))
                    yield return line;
        }
        yield return "";
        yield return RunSettings.HelpLine;
    }

    /// <summary>TRL's default learning rate per method: SFTConfig 2e-5, RewardConfig 1e-4, DPO/KTO/ORPO/CPO configs 1e-6.</summary>
    private static TrainingArguments Defaults(string method) => new()
    {
        LearningRate = method switch { "sft" => 2e-5f, "rm" => 1e-4f, _ => 1e-6f },
        OutputDir = $"runs/{method}",
    };

    private static object[] MethodOptions(string method) => method switch
    {
        "dpo" => [new DpoOptions(), new ReferenceOptions()],
        "kto" => [new KtoOptions()],
        "orpo" => [new OrpoOptions()],
        "simpo" => [new SimPoOptions()],
        "rm" => [new RewardModelOptions()],
        _ => [],
    };

    public static int Run(string[] args, TextWriter stdout)
    {
        if (args.Length == 0 || !Methods.Contains(args[0]))
            throw new UsageException($"train: name a method ({string.Join(", ", Methods)}): alignsharp train dpo --config recipe.yaml [--set key=value ...]");
        string method = args[0];
        var o = new Options(args[1..], Specs[Array.IndexOf(Methods, method)]);
        var values = RecipeFile.Read(o.Value("config"), o.Values("set"));
        var known = ConfigBinder.Keys(typeof(TrainingArguments)).Concat(MethodOptions(method).SelectMany(x => ConfigBinder.Keys(x.GetType()))).ToList();
        var arguments = ConfigBinder.Bind(Defaults(method), values).Validate();
        // Method options read the recipe only for their own method (so e.g. `beta` means the DPO β in a DPO recipe).
        T For<T>(string m, T defaults) where T : class => method == m ? ConfigBinder.Bind(defaults, values) : defaults;
        var dpo = For("dpo", new DpoOptions());
        var reference = For("dpo", new ReferenceOptions());
        var kto = For("kto", new KtoOptions());
        var orpo = For("orpo", new OrpoOptions());
        var simpo = For("simpo", new SimPoOptions());
        var rm = For("rm", new RewardModelOptions());
        ConfigBinder.RejectUnknown(values, known);
        if (arguments.Threads > 0) WorkerPool.SetDefaultThreads(arguments.Threads);

        // Model, tokenizer and template.
        ChatTemplate? templateOverride = arguments.ChatTemplate switch
        {
            null => null,
            var t when File.Exists(t) => ChatTemplate.Parse(File.ReadAllText(t), t),
            var t when BuiltInTemplates.Names.Contains(t, StringComparer.OrdinalIgnoreCase) => BuiltInTemplates.Get(t),
            var t => throw new TrainingException($"chat_template: '{t}' is neither a file nor a built-in template ({string.Join(", ", BuiltInTemplates.Names)})"),
        };
        // `model:` may be a PEFT adapter folder: training continues that adapter on its base (use_peft implied).
        string? adapterDir = PeftAdapterConfig.IsAdapterFolder(arguments.Model) ? arguments.Model : null;
        if (adapterDir is null && arguments.BaseModel is not null)
            throw new TrainingException($"base_model: only used when model is a PEFT adapter folder ({arguments.Model} has no {PeftAdapterConfig.FileName}); drop base_model or point model at the adapter");
        var adapterConfig = adapterDir is null ? null : PeftAdapterConfig.Read(adapterDir);
        string baseDir = adapterConfig?.ResolveBaseModel(arguments.BaseModel, "give the base model folder with base_model: BASE_DIR (--set base_model=BASE_DIR)") ?? arguments.Model;
        RequireContextLength(arguments, baseDir, method);
        var encoder = ExampleTokenizer.FromFolder(adapterDir is null ? baseDir : AdapterMerge.TokenizerFolder(baseDir, adapterDir), templateOverride);
        TrainableModel trainable;
        if (method == "rm")
        {
            if (adapterDir is not null) throw new TrainingException($"model: {adapterDir} is a LoRA adapter; reward models train in full here (merge it first: alignsharp model merge --adapter {adapterDir} --out DIR)");
            bool isRewardModel = !HuggingFaceFolder.ReadConfig(arguments.Model).HasLmHead;
            var valueModel = isRewardModel ? ValueHeadModel.Load(arguments.Model) : ValueHeadModel.Create(HuggingFaceFolder.Load(arguments.Model), arguments.Seed);
            if (arguments.UsePeft) throw new TrainingException("use_peft: reward models train in full here (LoRA on a value head is not supported yet)");
            trainable = new RewardModelTrainable(valueModel);
        }
        else if (adapterConfig is not null)
        {
            var model = HuggingFaceFolder.Load(baseDir);
            try { trainable = new LoraCausalLm(model, PeftFormat.Load(adapterDir!, model, arguments.Seed), Path.GetFullPath(baseDir)); }
            catch { model.Dispose(); throw; }
            var lora = adapterConfig.Lora;
            stdout.WriteLine($"model: continuing the LoRA adapter in {adapterDir} (r {lora.Rank}, alpha {lora.Alpha:G}, dropout {lora.Dropout:G}; lora_* keys come from it) on {baseDir}");
        }
        else
        {
            var model = HuggingFaceFolder.Load(arguments.Model);
            trainable = arguments.UsePeft
                ? new LoraCausalLm(model, new LoraConfig(arguments.LoraR, arguments.LoraAlpha, arguments.LoraDropout, arguments.LoraTargetModules, null, arguments.UseRslora),
                    arguments.Seed, Path.GetFullPath(arguments.Model))
                : new FullCausalLm(model);
        }

        // Data.
        var truncation = new TruncationOptions
        {
            MaxLength = arguments.MaxLength, MaxPromptLength = arguments.MaxPromptLength,
            Mode = arguments.TruncationMode == "keep_start" ? TruncationMode.KeepStart : TruncationMode.KeepEnd,
        };
        var expected = method switch { "sft" => (DatasetKind?)null, "kto" => DatasetKind.UnpairedPreference, _ => DatasetKind.Preference };
        var dataset = new JsonlDataset(arguments.Dataset, expected, arguments.SkipBadRows);
        var rows = dataset.ToList();
        stdout.WriteLine($"{method}: {rows.Count} rows from {arguments.Dataset}{(dataset.SkippedRows > 0 ? $" ({dataset.SkippedRows} malformed rows skipped: {string.Join("; ", dataset.SkipReasons)})" : "")}");
        int pad = encoder.PadId;
        Trainer trainer = method switch
        {
            "sft" => new SftTrainer(arguments, trainable, rows.Select(r => encoder.Sft(r, new SftOptions
            {
                MaxLength = arguments.Packing ? null : arguments.MaxLength, CompletionOnlyLoss = arguments.CompletionOnlyLoss, AssistantOnlyLoss = arguments.AssistantOnlyLoss,
            })).ToList(), pad, encoder.EosId, dataset.SkippedRows),
            "kto" => new KtoTrainer(arguments, trainable, rows.Cast<UnpairedPreferenceRow>().Select(r => encoder.Unpaired(r, truncation)).ToList(), pad, kto, dataset.SkippedRows),
            _ => PreferenceTrainer(method, arguments, trainable, rows.Cast<PreferenceRow>().Select(r => encoder.Preference(r, truncation)).ToList(), pad, dpo, reference, orpo, simpo, rm, dataset.SkippedRows),
        };

        trainer.RecordOptions(MethodSettings(method, dpo, reference, kto, orpo, simpo, rm));
        // Ready output_dir first (refuse or clear a used one, check settings on resume), then open the metrics files in it.
        var start = trainer.PrepareRun();
        if (start.Checkpoint is { } checkpoint) stdout.WriteLine($"resumed from {Path.GetFileName(checkpoint)} (step {start.Step}) in {arguments.OutputDir}");
        else if (arguments.Resume) stdout.WriteLine($"resume: no checkpoint in {arguments.OutputDir} yet; starting at step 0");
        using var metrics = new MetricsLogger(new TensorBoardWriter(Path.Combine(arguments.OutputDir, "logs"), start.TruncateMetricsAfter),
            new JsonlMetricsWriter(arguments.OutputDir, start.TruncateMetricsAfter));
        trainer.AddMetricsSink((step, scalars) =>
        {
            metrics.Log(step, scalars);
            stdout.WriteLine($"step {step}: " + string.Join(", ", scalars.Where(kv => kv.Key is "loss" or "learning_rate" or "grad_norm" or "rewards/accuracies" or "rewards/margins" or "accuracy" or "kl" or "tokens_per_second")
                .Select(kv => $"{kv.Key} {kv.Value:G4}")));
        });
        TrainingProgress? last = null;
        var bar = Progress.Bar($"train {method}", stdout, () => last is null ? "" :
            $"loss {last.Metrics.GetValueOrDefault("loss"):F4} lr {last.Metrics.GetValueOrDefault("learning_rate"):G3}");
        trainer.Progress += p => { last = p; bar((int)p.Step, (int)p.TotalSteps); };
        using (trainer)
        {
            var result = trainer.Train();
            SaveTokenizer(encoder, arguments.OutputDir, templateOverride);
            if (method == "rm" && arguments.EvalDataset is { } eval && trainer is RewardModelTrainer rmTrainer)
            {
                var evalPairs = new JsonlDataset(eval, DatasetKind.Preference, arguments.SkipBadRows).Cast<PreferenceRow>().Select(r => encoder.Preference(r, truncation)).ToList();
                stdout.WriteLine($"eval pairwise accuracy: {rmTrainer.Accuracy(evalPairs):P1} on {evalPairs.Count} pairs");
            }
            stdout.WriteLine($"done: {result.Steps} steps, final loss {result.FinalLoss:G4}; model in {result.OutputDir}");
        }
        return 0;
    }

    /// <summary>The options records the method reads, recorded in output_dir with the training arguments and checked on resume.</summary>
    private static object[] MethodSettings(string method, DpoOptions dpo, ReferenceOptions reference, KtoOptions kto, OrpoOptions orpo, SimPoOptions simpo, RewardModelOptions rm) => method switch
    {
        "dpo" => [dpo, reference],
        "kto" => [kto],
        "orpo" => [orpo],
        "simpo" => [simpo],
        "rm" => [rm],
        _ => [],
    };

    /// <summary>
    /// max_length must fit the model's max_position_embeddings (past it there is no position embedding, or rotary
    /// angles the model never trained on); read from config.json before the tokenizer, model or data load.
    /// </summary>
    private static void RequireContextLength(TrainingArguments arguments, string modelDir, string method)
    {
        string path = Path.Combine(modelDir, "config.json");
        if (!File.Exists(path)) return; // loading the model reports the missing folder or file
        var config = ModelConfig.FromJson(File.ReadAllText(path), path);
        if (!config.HasLmHead && method != "rm") return; // loading it as a causal LM names it a reward/value model, the first thing to fix
        if (arguments.MaxLength > config.MaxPositions)
            throw new TrainingException($"max_length {arguments.MaxLength} is above the model's max_position_embeddings {config.MaxPositions} ({path}); set max_length to at most {config.MaxPositions}");
    }

    private static Trainer PreferenceTrainer(string method, TrainingArguments a, TrainableModel m, List<PreferenceExample> pairs, int pad,
        DpoOptions dpo, ReferenceOptions reference, OrpoOptions orpo, SimPoOptions simpo, RewardModelOptions rm, int skipped) => method switch
    {
        "dpo" => new DpoTrainer(a, m, pairs, pad, dpo, reference.PrecomputeRefLogProbs, skipped),
        "orpo" => new OrpoTrainer(a, m, pairs, pad, orpo, skipped),
        "simpo" => new SimPoTrainer(a, m, pairs, pad, simpo, skipped),
        "rm" => new RewardModelTrainer(a, (RewardModelTrainable)m, pairs, pad, rm, skipped),
        _ => throw new UsageException($"train: unknown method '{method}'"),
    };

    /// <summary>The output folder gets the tokenizer and chat template too, so it loads as a complete model folder.</summary>
    private static void SaveTokenizer(ExampleTokenizer encoder, string outputDir, ChatTemplate? templateOverride)
    {
        encoder.Tokenizer.Save(outputDir);
        var config = new AlignSharp.Models.Tokenizers.TokenizerConfig
        {
            BosToken = encoder.TemplateOptions.BosToken, EosToken = encoder.TemplateOptions.EosToken,
            ChatTemplate = (templateOverride ?? encoder.Template)?.Source,
        };
        config.Save(outputDir, encoder.Tokenizer);
    }
}
