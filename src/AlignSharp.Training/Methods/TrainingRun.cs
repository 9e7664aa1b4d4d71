using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Lora;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;
using AlignSharp.Training.Metrics;
using AlignSharp.Training.Online;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Training.Methods;

/// <summary>
/// A trainer recipe made ready to train, end to end as <c>alignsharp train</c> and <c>alignsharp run</c> do it: the
/// model (a Hugging Face folder, a PEFT adapter to continue, or a reward model for rm), the tokenizer and chat
/// template, the dataset read and encoded, and the method's trainer. It prints nothing: what a caller reports is here
/// (<see cref="Adapter"/>, <see cref="Data"/>, <see cref="PrepareRun"/>'s result, <see cref="Train"/>'s outcome) and the
/// trainer's <see cref="Trainer.Progress"/> and metrics sinks are open to it.
/// </summary>
/// <example>
/// <code>
/// using var run = TrainingRun.FromRecipe(RecipeFile.Read("recipes/dpo.yaml", []));
/// run.Trainer.Progress += p => Console.Write($"\rstep {p.Step}/{p.TotalSteps}");
/// var outcome = run.Train();
/// Console.WriteLine($"final loss {outcome.Result.FinalLoss:G4} in {outcome.Result.OutputDir}");
/// </code>
/// </example>
public sealed class TrainingRun : IDisposable
{
    private readonly ChatTemplate? _templateOverride;
    private readonly OnlineRewards? _rewards;
    private MetricsLogger? _metrics;
    private RunStart? _start;

    private TrainingRun(TrainingRecipe recipe, Trainer trainer, ExampleTokenizer encoder, ChatTemplate? templateOverride, ContinuedAdapter? adapter, DatasetSummary data, OnlineRewards? rewards)
    {
        Recipe = recipe; Trainer = trainer; Encoder = encoder; _templateOverride = templateOverride; Adapter = adapter; Data = data; _rewards = rewards;
    }

    /// <summary>The bound recipe: method, arguments, options.</summary>
    public TrainingRecipe Recipe { get; }

    /// <summary>The method's trainer (subscribe to <see cref="Trainer.Progress"/>, add metrics sinks).</summary>
    public Trainer Trainer { get; }

    /// <summary>The tokenizer and chat template the data was encoded with; saved into output_dir at the end.</summary>
    public ExampleTokenizer Encoder { get; }

    /// <summary>The PEFT adapter this run continues, when <c>model:</c> is an adapter folder.</summary>
    public ContinuedAdapter? Adapter { get; }

    /// <summary>What was read from the dataset.</summary>
    public DatasetSummary Data { get; }

    /// <summary>The reward functions an online method scores its samples with (null for offline methods); the run owns their sources.</summary>
    public RewardFunctions? Rewards => _rewards?.Functions;

    /// <summary>Binds <paramref name="values"/> (<see cref="TrainingRecipe.Bind"/>) and starts the run (<see cref="Start"/>).</summary>
    public static TrainingRun FromRecipe(IReadOnlyDictionary<string, (string Value, string Source)> values, TrainingMethod? methodFromCommandLine = null,
        IRewardSourceResolver? rewards = null) =>
        Start(TrainingRecipe.Bind(values, methodFromCommandLine), rewards);

    /// <summary>
    /// Loads what the recipe names and builds the trainer: chat_template override, then (online methods) the reward
    /// sources of reward_funcs, then the model (max_length checked against its config.json first), then the dataset
    /// (every row of the method's kind; skip_bad_rows counts the malformed ones), encoded. Sets the worker thread count
    /// when <c>threads</c> is positive.
    /// </summary>
    /// <param name="recipe">The bound recipe.</param>
    /// <param name="rewards">
    /// Resolves the reward_funcs specs of an online method beyond <c>rm:FOLDER</c>, which Training reads itself (the
    /// command line passes AlignSharp.Alignment's RewardSpecs: world checks, constitutions, verifiers, judges). The
    /// caller keeps owning the resolver; the run owns and disposes the sources made for it.
    /// </param>
    /// <exception cref="TrainingException">A missing or unusable model, template, reward source or dataset, named with the fix.</exception>
    public static TrainingRun Start(TrainingRecipe recipe, IRewardSourceResolver? rewards = null)
    {
        var (method, arguments, options) = recipe;
        if (arguments.Threads > 0) WorkerPool.SetDefaultThreads(arguments.Threads);

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
        var rewardSources = method.IsOnline ? OnlineRewards.Resolve(options.Get<OnlineRewardOptions>(), rewards) : null;
        TrainableModel? model = null;
        try
        {
            var encoder = ExampleTokenizer.FromFolder(adapterDir is null ? baseDir : AdapterMerge.TokenizerFolder(baseDir, adapterDir), templateOverride);
            model = LoadModel(method, arguments, adapterDir, adapterConfig, baseDir);
            if (method == TrainingMethods.Ppo) model = WithCritic(model, options.Get<PpoOptions>(), baseDir, arguments.Seed);
            var (examples, data) = ReadDataset(method, arguments, encoder, rewardSources?.Functions);
            var trainer = method.CreateTrainer(arguments, model, examples, options);
            var adapter = adapterConfig is null ? null : new ContinuedAdapter(adapterDir!, adapterConfig.Lora, baseDir);
            return new TrainingRun(recipe, trainer, encoder, templateOverride, adapter, data, rewardSources);
        }
        catch
        {
            model?.Dispose();
            rewardSources?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The dataset encoded for the method: rows of its kind, or for an online method the prompts as records (extra
    /// columns as metadata; one form per file, distinct ids) with the reward functions.
    /// </summary>
    private static (EncodedExamples Examples, DatasetSummary Data) ReadDataset(TrainingMethod method, TrainingArguments arguments, ExampleTokenizer encoder, RewardFunctions? rewards)
    {
        if (method.IsOnline)
        {
            var prompts = PromptRecords.FromJsonl(arguments.Dataset, arguments.SkipBadRows);
            return (EncodedExamples.ForPrompts(new OnlineInputs(prompts.Prompts, encoder, rewards!), prompts.SkippedRows),
                new DatasetSummary(arguments.Dataset, prompts.Prompts.Count, prompts.SkippedRows, prompts.SkipReasons));
        }
        var dataset = new JsonlDataset(arguments.Dataset, method.DatasetKind, arguments.SkipBadRows);
        var rows = dataset.ToList();
        return (method.Encode(encoder, rows, arguments, dataset.SkippedRows),
            new DatasetSummary(arguments.Dataset, rows.Count, dataset.SkippedRows, dataset.SkipReasons.ToList()));
    }

    /// <summary>
    /// Readies output_dir (a fresh run refuses or clears a used folder; a resume checks the recorded settings), then
    /// opens metrics.jsonl and the TensorBoard event files there (cut back to the checkpoint's step on resume) as the
    /// trainer's first metrics sink. <see cref="Train"/> calls it when the caller has not.
    /// </summary>
    public RunStart PrepareRun()
    {
        if (_start is not null) return _start;
        var start = Trainer.PrepareRun();
        _metrics = MetricsLogger.ForRun(Recipe.Arguments.OutputDir, start);
        Trainer.AddMetricsSink(_metrics.Log);
        return _start = start;
    }

    /// <summary>
    /// Trains to the end, then saves the tokenizer and chat template beside the model (so output_dir loads as a complete
    /// model folder) and, for a reward model with an eval_dataset, measures its pairwise accuracy there.
    /// </summary>
    public TrainingOutcome Train(CancellationToken cancellationToken = default)
    {
        PrepareRun();
        var result = Trainer.Train(cancellationToken);
        SaveTokenizer(Recipe.Arguments.OutputDir);
        PairwiseAccuracy? eval = null;
        if (Recipe.Arguments.EvalDataset is { } evalPath && Trainer is RewardModelTrainer rewardModel)
        {
            var pairs = new JsonlDataset(evalPath, DatasetKind.Preference, Recipe.Arguments.SkipBadRows).Cast<PreferenceRow>()
                .Select(r => Encoder.Preference(r, TrainingMethod.Truncation(Recipe.Arguments))).ToList();
            eval = new PairwiseAccuracy(rewardModel.Accuracy(pairs), pairs.Count);
        }
        return new TrainingOutcome(result, eval);
    }

    /// <summary>Disposes the trainer (and the model it owns) and the reward sources made for the run, and closes the metrics files.</summary>
    public void Dispose()
    {
        Trainer.Dispose();
        _rewards?.Dispose();
        _metrics?.Dispose();
    }

    private static TrainableModel LoadModel(TrainingMethod method, TrainingArguments arguments, string? adapterDir, PeftAdapterConfig? adapterConfig, string baseDir)
    {
        if (method == TrainingMethods.RewardModel)
        {
            if (adapterDir is not null) throw new TrainingException($"model: {adapterDir} is a LoRA adapter; reward models train in full here (merge it first: alignsharp model merge --adapter {adapterDir} --out DIR)");
            bool isRewardModel = !HuggingFaceFolder.ReadConfig(arguments.Model).HasLmHead;
            var valueModel = isRewardModel ? ValueHeadModel.Load(arguments.Model) : ValueHeadModel.Create(HuggingFaceFolder.Load(arguments.Model), arguments.Seed);
            if (arguments.UsePeft)
            {
                valueModel.Dispose();
                throw new TrainingException("use_peft: reward models train in full here (LoRA on a value head is not supported yet)");
            }
            return new RewardModelTrainable(valueModel);
        }
        if (adapterConfig is not null)
        {
            var model = HuggingFaceFolder.Load(baseDir);
            try { return new LoraCausalLm(model, PeftFormat.Load(adapterDir!, model, arguments.Seed), Path.GetFullPath(baseDir)); }
            catch { model.Dispose(); throw; }
        }
        var full = HuggingFaceFolder.Load(arguments.Model);
        return arguments.UsePeft
            ? new LoraCausalLm(full, new LoraConfig(arguments.LoraR, arguments.LoraAlpha, arguments.LoraDropout, arguments.LoraTargetModules, null, arguments.UseRslora),
                arguments.Seed, Path.GetFullPath(arguments.Model))
            : new FullCausalLm(full);
    }

    /// <summary>
    /// PPO's policy with its critic (value_model): a separate value model started from the policy's starting weights
    /// with a new score head, as TRL's examples start it, or a value head on the policy's own trunk.
    /// </summary>
    private static PolicyAndValue WithCritic(TrainableModel policy, PpoOptions options, string baseDir, ulong seed)
    {
        if (options.ValueModel == ValueModelKind.Shared) return PolicyAndValue.WithSharedHead(policy, seed);
        var body = HuggingFaceFolder.Load(baseDir);
        try { return PolicyAndValue.WithCritic(policy, ValueHeadModel.Create(body, seed)); }
        catch { body.Dispose(); throw; }   // the caller disposes the policy
    }

    /// <summary>
    /// max_length must fit the model's max_position_embeddings (past it there is no position embedding, or rotary
    /// angles the model never trained on); read from config.json before the tokenizer, model or data load.
    /// </summary>
    private static void RequireContextLength(TrainingArguments arguments, string modelDir, TrainingMethod method)
    {
        if (method.IsOnline) return; // online methods read no max_length: sampling stops at the model's context
        string path = Path.Combine(modelDir, "config.json");
        if (!File.Exists(path)) return; // loading the model reports the missing folder or file
        var config = ModelConfig.FromJson(File.ReadAllText(path), path);
        if (!config.HasLmHead && method != TrainingMethods.RewardModel) return; // loading it as a causal LM names it a reward/value model, the first thing to fix
        ContextLength.Require(arguments.MaxLength, config, path);
    }

    /// <summary>The output folder gets the tokenizer and chat template too, so it loads as a complete model folder.</summary>
    private void SaveTokenizer(string outputDir)
    {
        Encoder.Tokenizer.Save(outputDir);
        var config = new TokenizerConfig
        {
            BosToken = Encoder.TemplateOptions.BosToken, EosToken = Encoder.TemplateOptions.EosToken,
            ChatTemplate = (_templateOverride ?? Encoder.Template)?.Source,
        };
        config.Save(outputDir, Encoder.Tokenizer);
    }
}

/// <summary>A PEFT adapter a run continues: its folder, its LoRA settings (which win over the recipe's lora_* keys) and its base.</summary>
public sealed record ContinuedAdapter(string Folder, LoraConfig Lora, string BaseModel);

/// <summary>The dataset a run read: its path, the rows kept, and the malformed rows skipped (skip_bad_rows) with the first reasons.</summary>
public sealed record DatasetSummary(string Path, int Rows, int SkippedRows, IReadOnlyList<string> SkipReasons);

/// <summary>How a run ended: the trainer's result and, for a reward model with an eval_dataset, its pairwise accuracy there.</summary>
public sealed record TrainingOutcome(TrainingResult Result, PairwiseAccuracy? Eval);

/// <summary>The fraction of pairs a reward model scores chosen above rejected, over <paramref name="Pairs"/> pairs.</summary>
public sealed record PairwiseAccuracy(double Accuracy, int Pairs);
