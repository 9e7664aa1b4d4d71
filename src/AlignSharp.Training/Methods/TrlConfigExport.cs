using AlignSharp.Models.Checkpoints;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using AlignSharp.Models.Lora;
using AlignSharp.Training.Config;
using AlignSharp.Training.Data;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Training.Methods;

/// <summary>
/// Hands a trainer recipe to TRL on a GPU cluster: the dataset(s) in TRL's JSONL formats and a YAML config for TRL's own
/// launcher (<c>trl sft|reward|dpo|kto --config FILE</c>; ORPO and SimPO through TRL's example scripts), with each recipe
/// key under TRL's field name. TRL's scripts parse ScriptArguments + the method's config (which extends transformers'
/// TrainingArguments) + ModelConfig and refuse any other key, so only fields of those classes are written (the test
/// checks every name against tools/fixtures/trl_config_fields.json, read from TRL's source). Recipe keys with no TRL
/// field are listed, with what TRL does instead, in <see cref="TrlConfig.Unmapped"/> and at the top of the file.
/// </summary>
public static class TrlConfigExport
{
    /// <summary>The config file written into the output folder.</summary>
    public const string ConfigFile = "trl_config.yaml";

    /// <summary>The folder (inside the output folder) that holds the data; TRL loads it with <c>datasets.load_dataset(folder)</c>.</summary>
    public const string DataFolder = "data";

    /// <summary>The training split's file: <c>load_dataset</c> names a split after its file, so this is split "train".</summary>
    public const string TrainFile = "train.jsonl";

    /// <summary>The eval_dataset's file: split "test", TRL's default dataset_test_split.</summary>
    public const string TestFile = "test.jsonl";

    /// <summary>The dataclasses whose fields a TRL training script accepts for <paramref name="method"/>.</summary>
    public static IReadOnlyList<string> ParsedClasses(TrainingMethod method) => ["ScriptArguments", "ModelConfig", method.Trl.ConfigClass, "TrainingArguments"];

    /// <summary>
    /// Binds the recipe (<see cref="TrainingRecipe.Bind"/>: every key checked, as training would), reads its dataset and
    /// eval_dataset (every row checked; skip_bad_rows leaves malformed ones out) and writes them to
    /// <c>OUT/data/train.jsonl</c> and <c>test.jsonl</c>, then <c>OUT/trl_config.yaml</c>. Loads no model.
    /// </summary>
    /// <exception cref="TrainingException">A bad recipe or dataset, named with the fix; nothing is written then.</exception>
    public static TrlExport Export(IReadOnlyDictionary<string, (string Value, string Source)> values, string outDir, TrainingMethod? methodFromCommandLine = null)
    {
        var recipe = TrainingRecipe.Bind(values, methodFromCommandLine);
        var (method, arguments, _) = recipe;
        RefuseOnline(method);
        var train = new JsonlDataset(arguments.Dataset, method.DatasetKind, arguments.SkipBadRows);
        var trainRows = train.ToList();
        var kind = train.Kind;
        if (method.DatasetKind is null && kind is not (DatasetKind.LanguageModeling or DatasetKind.PromptCompletion) && trainRows.Count > 0)
            throw new TrainingException($"{arguments.Dataset}: {method} reads language-modeling or prompt-completion rows, not {DatasetKindNames.Describe(kind!.Value)} rows");
        var eval = arguments.EvalDataset is { } evalPath ? new JsonlDataset(evalPath, kind, arguments.SkipBadRows) : null;
        var evalRows = eval?.ToList();
        if (trainRows.Count == 0) throw new TrainingException($"{arguments.Dataset}: no usable examples");

        string dataDir = Path.Combine(outDir, DataFolder);
        Directory.CreateDirectory(dataDir);
        var datasets = new List<ExportedDataset>();
        string trainPath = Path.Combine(dataDir, TrainFile), testPath = Path.Combine(dataDir, TestFile);
        TrlJsonlWriter.WriteAll(trainPath, trainRows);
        datasets.Add(new ExportedDataset(arguments.Dataset, trainPath, trainRows.Count, train.SkippedRows));
        if (eval is not null && evalRows!.Count > 0)
        {
            TrlJsonlWriter.WriteAll(testPath, evalRows);
            datasets.Add(new ExportedDataset(eval.Path, testPath, evalRows.Count, eval.SkippedRows));
        }
        else if (File.Exists(testPath)) File.Delete(testPath); // an earlier export's test split would be loaded as this one's

        var config = Map(recipe, values.Keys.ToHashSet(), dataDir, datasets.Count > 1, kind);
        string configPath = Path.Combine(outDir, ConfigFile);
        var handOff = HandOff(method, configPath);
        AtomicFile.WriteAllText(configPath, config.ToYaml(
        [
            $"TRL config for {method} ({method.Trl.ConfigClass} + ModelConfig + ScriptArguments), written by `alignsharp export trl`.",
            $"Run on a machine with GPUs: {handOff[^1]}",
            .. method.Trl.Note is { } note ? new[] { note + "." } : [],
        ]));
        var notes = new List<string>();
        if (Directory.Exists(arguments.Model))
            notes.Add($"model_name_or_path {arguments.Model} is a local folder: copy it to the same path on the GPU machine, or set a Hub model id");
        if (!Path.IsPathRooted(dataDir))
            notes.Add($"dataset_name {dataDir} is relative: launch from this folder, or copy {outDir} along keeping the path");
        return new TrlExport(config, configPath, datasets, handOff, notes);
    }

    /// <summary>The two lines that start the run on a GPU machine: install, then launch (TRL passes accelerate's options through, e.g. --num_processes 8).</summary>
    public static IReadOnlyList<string> HandOff(TrainingMethod method, string configPath) =>
    [
        method.Trl.Command.StartsWith("trl ") ? "pip install trl peft" : "pip install trl peft   # and, for examples/scripts/, a checkout of TRL's repository",
        $"{method.Trl.Command} --config {configPath}",
    ];

    /// <summary>
    /// The TRL fields for <paramref name="recipe"/>: every setting the run uses, under TRL's name (so TRL trains with the
    /// recipe's values, not its own defaults), and the keys with no TRL field among <paramref name="explicitKeys"/> (those
    /// the recipe or --set gave) with the reason. <paramref name="datasetFolder"/> becomes dataset_name; with
    /// <paramref name="withEval"/> the "test" split is evaluated each epoch.
    /// </summary>
    /// <exception cref="InvalidOperationException">A recipe key this mapping does not know (a new key needs its entry here).</exception>
    /// <exception cref="TrainingException">An online method (see <see cref="RefuseOnline"/>).</exception>
    public static TrlConfig Map(TrainingRecipe recipe, IReadOnlyCollection<string> explicitKeys, string datasetFolder, bool withEval, DatasetKind? datasetKind = null)
    {
        var (method, a, options) = recipe;
        RefuseOnline(method);
        var fields = new List<TrlField>();
        var unmapped = new List<UnmappedKey>();
        var printed = ConfigBinder.Values(a).Concat(options.Records.SelectMany(ConfigBinder.Values)).ToDictionary(kv => kv.Key, kv => kv.Value);
        void Set(string name, object? value) => fields.Add(new TrlField(name, value));
        void None(string key, string reason) { if (explicitKeys.Contains(key)) unmapped.Add(new UnmappedKey(key, printed[key], reason)); }
        bool sft = method == TrainingMethods.Sft, rm = method == TrainingMethods.RewardModel;
        bool hasTruncationMode = method == TrainingMethods.Dpo || method == TrainingMethods.Orpo || method == TrainingMethods.SimPo;

        // ScriptArguments: the exported folder, whose train.jsonl / test.jsonl load_dataset reads as splits "train" / "test".
        Set("dataset_name", datasetFolder);
        Set("dataset_train_split", "train");
        if (withEval)
        {
            Set("dataset_test_split", "test");
            Set("eval_strategy", "epoch"); // TRL's scripts pass the test split to the trainer only when evaluation is on
        }

        if (method == TrainingMethods.SimPo) Set("loss_type", "simpo"); // TRL's SimPO is CPOTrainer with this loss

        foreach (var key in printed.Keys)
        {
            switch (key)
            {
                // ModelConfig
                case "model":
                    Set("model_name_or_path", a.Model);
                    if (PeftAdapterConfig.IsAdapterFolder(a.Model))
                        unmapped.Add(new UnmappedKey(key, a.Model, "a PEFT adapter folder: TRL would load base + adapter through peft and add a new adapter with use_peft; merge it first (alignsharp model merge) and export the merged folder"));
                    break;
                case "base_model": None(key, "TRL takes the base from the adapter's adapter_config.json"); break;
                case "use_peft":
                    Set("use_peft", a.UsePeft);
                    if (a.UsePeft && rm) Set("lora_task_type", "SEQ_CLS"); // a reward model's LoRA wraps a sequence classifier
                    break;
                case "lora_r": if (a.UsePeft || explicitKeys.Contains(key)) Set("lora_r", a.LoraR); break;
                case "lora_alpha": if (a.UsePeft || explicitKeys.Contains(key)) Set("lora_alpha", Integral(a.LoraAlpha)); break;
                case "lora_dropout": if (a.UsePeft || explicitKeys.Contains(key)) Set("lora_dropout", a.LoraDropout); break;
                case "lora_target_modules": if (a.LoraTargetModules is { } targets) Set("lora_target_modules", targets); break;
                case "use_rslora": if (a.UsePeft || explicitKeys.Contains(key)) Set("use_rslora", a.UseRslora); break;

                // Data: written by the export (dataset_name above).
                case "dataset": break;
                case "eval_dataset": break;
                case "skip_bad_rows": None(key, "applied by the export: malformed rows were left out of the exported files"); break;
                case "chat_template":
                    if ((sft || rm) && a.ChatTemplate is { } template && File.Exists(template)) Set("chat_template_path", template);
                    else None(key, sft || rm
                        ? "a built-in AlignSharp template name: give chat_template_path a Jinja file or a tokenizer folder, or put the template in the model's tokenizer_config.json"
                        : $"{method.Trl.ConfigClass} has no chat template field: put the template in the model's tokenizer_config.json");
                    break;

                // TrainingArguments
                case "output_dir": Set("output_dir", a.OutputDir); break;
                case "learning_rate": Set("learning_rate", a.LearningRate); break;
                case "lr_scheduler_type":
                    // AlignSharp warms up before every schedule; transformers' "constant" has no warmup, "constant_with_warmup" has.
                    bool warms = a.WarmupSteps > 0 || a.WarmupRatio > 0;
                    Set("lr_scheduler_type", a.LrSchedulerType == "constant" && warms ? "constant_with_warmup" : a.LrSchedulerType);
                    break;
                case "warmup_steps":
                    // transformers ≥ 5 reads a warmup_steps below 1 as a fraction of all steps (warmup_ratio is deprecated).
                    if (a.WarmupSteps > 0) Set("warmup_steps", a.WarmupSteps);
                    else if (a.WarmupRatio > 0) Set("warmup_steps", a.WarmupRatio);
                    break;
                case "warmup_ratio": break; // written as warmup_steps above
                case "num_train_epochs": Set("num_train_epochs", a.NumTrainEpochs); break;
                case "max_steps": Set("max_steps", a.MaxSteps); break;
                case "per_device_train_batch_size": Set("per_device_train_batch_size", a.PerDeviceTrainBatchSize); break;
                case "gradient_accumulation_steps": Set("gradient_accumulation_steps", a.GradientAccumulationSteps); break;
                case "max_grad_norm": Set("max_grad_norm", a.MaxGradNorm); break;
                case "optim": Set("optim", a.Optim == "sgd" ? "sgd" : "adamw_torch"); break;
                case "weight_decay": Set("weight_decay", a.WeightDecay); break;
                case "adam_beta1": Set("adam_beta1", a.AdamBeta1); break;
                case "adam_beta2": Set("adam_beta2", a.AdamBeta2); break;
                case "adam_epsilon": Set("adam_epsilon", a.AdamEpsilon); break;
                case "seed": Set("seed", (long)a.Seed); break;
                case "logging_steps": Set("logging_steps", a.LoggingSteps); break;
                case "save_steps":
                    if (a.SaveSteps > 0) Set("save_steps", a.SaveSteps);
                    else Set("save_strategy", "no"); // AlignSharp's 0 = only the final model, which TRL's scripts save anyway
                    break;
                case "save_total_limit": Set("save_total_limit", a.SaveTotalLimit > 0 ? a.SaveTotalLimit : null); break;
                case "resume": None(key, "TRL's scripts start fresh; resume through Trainer.train(resume_from_checkpoint=...)"); break;
                case "resume_override": None(key, "AlignSharp's resume check; transformers does not compare settings on resume"); break;
                case "overwrite_output_dir": None(key, "transformers ≥ 5 has no such field: its Trainer writes into a used output_dir"); break;
                case "threads": None(key, "CPU worker threads; on GPUs give accelerate --num_processes instead"); break;

                // Lengths and truncation
                case "max_length": Set("max_length", a.MaxLength); break;
                case "max_prompt_length":
                    None(key, sft ? "not used by sft" : $"current {method.Trl.ConfigClass} has no prompt limit (TRL removed max_prompt_length): filter long prompts from the data, or rely on max_length");
                    break;
                case "truncation_mode":
                    if (hasTruncationMode) Set("truncation_mode", a.TruncationMode);
                    else None(key, sft ? "not used by sft (SFTConfig keeps the start of long sequences)" : $"{method.Trl.ConfigClass} has no truncation_mode");
                    break;

                // SFT
                case "packing": if (sft) Set("packing", a.Packing); else None(key, "sft only"); break;
                case "completion_only_loss":
                    // TRL refuses completion_only_loss: true on rows without a completion; unset, it does what AlignSharp does.
                    if (sft && datasetKind == DatasetKind.PromptCompletion) Set("completion_only_loss", a.CompletionOnlyLoss);
                    else None(key, sft ? "applies to prompt-completion rows only, and this dataset has none" : "sft only");
                    break;
                case "assistant_only_loss": if (sft) Set("assistant_only_loss", a.AssistantOnlyLoss); else None(key, "sft only"); break;

                // DPO (DPOConfig)
                case "beta" when method == TrainingMethods.Dpo:
                    Set("beta", options.Get<DpoOptions>().Beta);
                    break;
                case "loss_type" when method == TrainingMethods.Dpo:
                    var dpo = options.Get<DpoOptions>();
                    if (dpo.LossType == DpoLossType.Cdpo)
                    {
                        None(key, "conservative DPO is TRL ≤ 0.28's sigmoid with label_smoothing; current DPOConfig's sigmoid ignores label_smoothing (its loss_type robust is the unbiased variant)");
                        if (dpo.RpoAlpha is { } alpha) { Set("loss_type", new[] { "sigmoid", "sft" }); Set("loss_weights", new[] { 1f, alpha }); }
                        break;
                    }
                    // RPO (rpo_alpha α) is current TRL's loss_type [x, "sft"] with loss_weights [1, α]: the same chosen-token NLL.
                    string name = Dpo.LossTypeName(dpo.LossType);
                    if (dpo.RpoAlpha is { } rpo) { Set("loss_type", new[] { name, "sft" }); Set("loss_weights", new[] { 1f, rpo }); }
                    else Set("loss_type", new[] { name });
                    break;
                case "label_smoothing" when method == TrainingMethods.Dpo:
                    if (options.Get<DpoOptions>().LossType == DpoLossType.Cdpo) None(key, "part of loss_type cdpo (see loss_type)");
                    else Set("label_smoothing", options.Get<DpoOptions>().LabelSmoothing);
                    break;
                case "rpo_alpha" when method == TrainingMethods.Dpo: break; // written with loss_type
                case "precompute_ref_log_probs": Set("precompute_ref_log_probs", options.Get<ReferenceOptions>().PrecomputeRefLogProbs); break;

                // KTO (KTOConfig)
                case "beta" when method == TrainingMethods.Kto: Set("beta", options.Get<KtoOptions>().Beta); break;
                case "desirable_weight": Set("desirable_weight", options.Get<KtoOptions>().DesirableWeight); break;
                case "undesirable_weight": Set("undesirable_weight", options.Get<KtoOptions>().UndesirableWeight); break;

                // ORPO (ORPOConfig: beta is the paper's λ)
                case "beta" when method == TrainingMethods.Orpo: Set("beta", options.Get<OrpoOptions>().Beta); break;

                // SimPO (CPOConfig with loss_type simpo)
                case "beta" when method == TrainingMethods.SimPo: Set("beta", options.Get<SimPoOptions>().Beta); break;
                case "simpo_gamma": Set("simpo_gamma", options.Get<SimPoOptions>().SimpoGamma); break;
                case "cpo_alpha": Set("cpo_alpha", options.Get<SimPoOptions>().CpoAlpha); break;
                case "label_smoothing" when method == TrainingMethods.SimPo: Set("label_smoothing", options.Get<SimPoOptions>().LabelSmoothing); break;

                // Reward model (RewardConfig)
                case "center_rewards_coefficient": Set("center_rewards_coefficient", options.Get<RewardModelOptions>().CenterRewardsCoefficient); break;

                default:
                    throw new InvalidOperationException($"export trl: no TRL mapping for {method} key '{key}'; add it to {nameof(TrlConfigExport)}.{nameof(Map)}");
            }
        }
        return new TrlConfig(method, fields, unmapped);
    }

    /// <summary>
    /// Online methods are not exported: their rewards are AlignSharp signal sources (reward_funcs specs), which TRL's
    /// trainers cannot load (TRL takes Python reward functions or a reward model id), so a config would train on other rewards.
    /// </summary>
    /// <exception cref="TrainingException">Always, for an online method.</exception>
    public static void RefuseOnline(TrainingMethod method)
    {
        if (method.IsOnline)
            throw new TrainingException($"export trl: {method} is an online method whose rewards (reward_funcs) are AlignSharp signal sources that TRL cannot load, so no config is written; " +
                $"train it here (alignsharp train {method}), or run `{method.Trl.Command}` ({method.Trl.ConfigClass}) on the prompt-only dataset as it is (already TRL's format) with reward functions written for it");
    }

    /// <summary>An integral float as an integer (ModelConfig.lora_alpha is an int), any other as itself.</summary>
    private static object Integral(float value) => value == MathF.Round(value) && Math.Abs(value) < int.MaxValue ? (object)(int)value : value;
}

/// <summary>One field of a TRL config: TRL's name and the value (string, bool, integer, float, a list of those, or null).</summary>
public sealed record TrlField(string Name, object? Value);

/// <summary>A recipe key with no TRL field: its value as the recipe prints it, and what TRL does instead.</summary>
public sealed record UnmappedKey(string Key, string Value, string Reason);

/// <summary>A TRL config for one method: its fields in the order written, and the recipe keys it cannot carry.</summary>
public sealed record TrlConfig(TrainingMethod Method, IReadOnlyList<TrlField> Fields, IReadOnlyList<UnmappedKey> Unmapped)
{
    private static readonly JsonSerializerOptions Quoting = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// The YAML TRL's parser reads: <paramref name="header"/> and the unmapped keys as comments, then one
    /// <c>name: value</c> per field (strings double-quoted, floats always with a point so PyYAML reads them as floats).
    /// </summary>
    public string ToYaml(IEnumerable<string> header)
    {
        var lines = header.Select(h => "# " + h).ToList();
        lines.Add(Unmapped.Count == 0 ? "# Every recipe key has a TRL field here." : "# Recipe keys with no TRL field (not in this file):");
        foreach (var u in Unmapped) lines.Add($"#   {u.Key}: {OneLine(u.Value)} — {u.Reason}");
        lines.AddRange(Fields.Select(f => $"{f.Name}: {Yaml(f.Value)}"));
        return string.Join("\n", lines) + "\n";
    }

    /// <summary>A value as a YAML 1.1 scalar or flow list.</summary>
    public static string Yaml(object? value) => value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        string s => JsonSerializer.Serialize(s, Quoting),
        int or long => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        float f => Float(f.ToString("R", CultureInfo.InvariantCulture)),
        double d => Float(d.ToString("R", CultureInfo.InvariantCulture)),
        System.Collections.IEnumerable list => "[" + string.Join(", ", list.Cast<object?>().Select(Yaml)) + "]",
        _ => throw new ArgumentException($"no YAML form for {value.GetType().Name}", nameof(value)),
    };

    /// <summary>PyYAML reads a float only with a point and a signed exponent: 2 → 2.0, 1E-06 → 1.0e-06.</summary>
    private static string Float(string text)
    {
        int e = text.IndexOfAny(['E', 'e']);
        if (e < 0) return text.Contains('.') ? text : text + ".0";
        string mantissa = text[..e], exponent = text[(e + 1)..];
        if (!mantissa.Contains('.')) mantissa += ".0";
        if (exponent[0] is not ('-' or '+')) exponent = "+" + exponent;
        return $"{mantissa}e{exponent}";
    }

    private static string OneLine(string s) => s.Replace('\n', ' ').Replace('\r', ' ');
}

/// <summary>A dataset written for TRL: where it came from, where it went, the rows written and the malformed rows left out.</summary>
public sealed record ExportedDataset(string Source, string Path, int Rows, int SkippedRows);

/// <summary>What <see cref="TrlConfigExport.Export"/> wrote, the hand-off lines and notes for the user.</summary>
public sealed record TrlExport(TrlConfig Config, string ConfigPath, IReadOnlyList<ExportedDataset> Datasets, IReadOnlyList<string> HandOff, IReadOnlyList<string> Notes);
