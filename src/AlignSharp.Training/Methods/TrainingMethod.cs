using AlignSharp.Training.Config;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;
using AlignSharp.Training.Online;

namespace AlignSharp.Training.Methods;

/// <summary>
/// One training method of the registry (<see cref="TrainingMethods"/>): its recipe name, what it is (with the paper),
/// TRL's default learning rate, the dataset kind it reads, its options records and the factory that builds its
/// <see cref="Trainer"/>. Compared by reference (there is one instance per method); prints as recipes spell it.
/// </summary>
public sealed class TrainingMethod
{
    private readonly OptionsSlot[] _options;
    private readonly Func<TrainingArguments, TrainableModel, EncodedExamples, MethodOptions, Trainer> _create;

    internal TrainingMethod(string name, string description, float defaultLearningRate, DatasetKind? datasetKind, TrlTrainer trl,
        OptionsSlot[] options, Func<TrainingArguments, TrainableModel, EncodedExamples, MethodOptions, Trainer> create)
    {
        Name = name; Description = description; DefaultLearningRate = defaultLearningRate; DatasetKind = datasetKind; Trl = trl;
        _options = options; _create = create;
    }

    /// <summary>The name a recipe's <c>method:</c> key and <c>alignsharp train NAME</c> use: "sft", "rm", "dpo", ...</summary>
    public string Name { get; }

    /// <summary>One line: what the method trains and the paper (or TRL trainer) it follows.</summary>
    public string Description { get; }

    /// <summary>TRL's default learning rate for the method's config (SFTConfig 2e-5, RewardConfig 1e-4, DPO/KTO/ORPO/CPO/GRPO/RLOO configs 1e-6, OnlineDPOConfig 5e-7, PPOConfig 5e-5).</summary>
    public float DefaultLearningRate { get; }

    /// <summary>The dataset kind every row must have; null for SFT, which reads language-modeling and prompt-completion rows; prompt-only for the online methods.</summary>
    public DatasetKind? DatasetKind { get; }

    /// <summary>The TRL trainer that runs the same method on GPUs (for <c>alignsharp export trl</c>; OpenRLHF's for REINFORCE++, which TRL lacks).</summary>
    public TrlTrainer Trl { get; }

    /// <summary>The training arguments a recipe starts from: TRL's learning rate for the method, output_dir runs/NAME.</summary>
    public TrainingArguments DefaultArguments => new() { LearningRate = DefaultLearningRate, OutputDir = $"runs/{Name}" };

    /// <summary>The method's options records with their defaults (TRL's), in the order <see cref="MethodOptions.Records"/> keeps.</summary>
    public IReadOnlyList<object> DefaultOptions => _options.Select(o => o.Defaults).ToList();

    /// <summary>The recipe keys of the method's own options (beta, loss_type, ...).</summary>
    public IEnumerable<string> OptionKeys => _options.SelectMany(o => ConfigBinder.Keys(o.Defaults.GetType()));

    /// <summary>The method's options: <paramref name="records"/> (at most one of each type the method reads), defaults for the rest.</summary>
    /// <exception cref="ArgumentException">A record of a type the method does not read, or two of one type.</exception>
    public MethodOptions Options(params object[] records)
    {
        foreach (var r in records)
        {
            if (!_options.Any(o => o.Defaults.GetType() == r.GetType()))
                throw new ArgumentException($"{Name} reads no {r.GetType().Name} (it reads {DefaultOptionsText()})", nameof(records));
            if (records.Count(x => x.GetType() == r.GetType()) > 1)
                throw new ArgumentException($"{Name}: two {r.GetType().Name} records given", nameof(records));
        }
        return new MethodOptions(_options.Select(o => records.FirstOrDefault(r => r.GetType() == o.Defaults.GetType()) ?? o.Defaults).ToList());
    }

    /// <summary>
    /// The method's options bound from recipe keys (the keys used are removed from <paramref name="values"/>); bad values
    /// throw <see cref="TrainingException"/> naming the key and its source.
    /// </summary>
    public MethodOptions BindOptions(IDictionary<string, (string Value, string Source)> values) =>
        new(_options.Select(o => o.Bind(values)).ToList());

    /// <summary>Whether the method samples its own completions from prompt-only rows (GRPO, PPO, RLOO, online DPO).</summary>
    public bool IsOnline => DatasetKind == Data.DatasetKind.PromptOnly;

    /// <summary>
    /// Tokenizes dataset rows into the examples the method trains on, as <c>alignsharp train</c> does: SFT rows with
    /// max_length (unless packing), completion_only_loss and assistant_only_loss; preference and unpaired rows with
    /// max_length, max_prompt_length and truncation_mode; prompt-only rows (online methods) as prompt records, with
    /// their extra columns as metadata for <paramref name="rewards"/>, the reward functions they are scored with.
    /// </summary>
    /// <exception cref="TrainingException">A row of another kind, or one the chat template cannot render.</exception>
    /// <exception cref="ArgumentException">An online method without <paramref name="rewards"/>.</exception>
    public EncodedExamples Encode(ExampleTokenizer encoder, IEnumerable<DatasetRow> rows, TrainingArguments arguments, int skippedRows = 0, RewardFunctions? rewards = null)
    {
        switch (DatasetKind)
        {
            case Data.DatasetKind.PromptOnly:
                if (rewards is null) throw new ArgumentException($"{Name} samples completions and scores them: give its reward functions", nameof(rewards));
                var prompts = rows.Select(r => PromptRecords.FromRow(As<PromptOnlyRow>(r))).ToList();
                return EncodedExamples.ForPrompts(new OnlineInputs(prompts, encoder, rewards), skippedRows);
            case null:
                var sft = new SftOptions
                {
                    MaxLength = arguments.Packing ? null : arguments.MaxLength, CompletionOnlyLoss = arguments.CompletionOnlyLoss,
                    AssistantOnlyLoss = arguments.AssistantOnlyLoss,
                };
                var sequences = rows.Select(r => encoder.Sft(r, sft)).ToList();
                return EncodedExamples.ForSft(sequences, encoder.PadId, encoder.EosId, skippedRows);
            case Data.DatasetKind.UnpairedPreference:
                return EncodedExamples.ForUnpaired(rows.Select(r => encoder.Unpaired(As<UnpairedPreferenceRow>(r), Truncation(arguments))).ToList(), encoder.PadId, skippedRows);
            default:
                return EncodedExamples.ForPreference(rows.Select(r => encoder.Preference(As<PreferenceRow>(r), Truncation(arguments))).ToList(), encoder.PadId, skippedRows);
        }
    }

    /// <summary>How preference and unpaired rows are cut: max_length, max_prompt_length, truncation_mode.</summary>
    public static TruncationOptions Truncation(TrainingArguments arguments) => new()
    {
        MaxLength = arguments.MaxLength, MaxPromptLength = arguments.MaxPromptLength,
        Mode = arguments.TruncationMode == "keep_start" ? TruncationMode.KeepStart : TruncationMode.KeepEnd,
    };

    /// <summary>
    /// The method's trainer over <paramref name="examples"/> (already encoded, in the method's shape) and
    /// <paramref name="model"/> (already built: a causal LM, LoRA adapters on one, or a reward model for rm), with the
    /// options recorded in output_dir beside the arguments and checked on resume. The trainer owns the model from here.
    /// </summary>
    /// <exception cref="ArgumentException">Examples of another shape, or options of another method.</exception>
    public Trainer CreateTrainer(TrainingArguments arguments, TrainableModel model, EncodedExamples examples, MethodOptions? options = null)
    {
        options ??= Options();
        foreach (var record in options.Records)
            if (!_options.Any(o => o.Defaults.GetType() == record.GetType()))
                throw new ArgumentException($"{Name} reads no {record.GetType().Name} (it reads {DefaultOptionsText()})", nameof(options));
        var trainer = _create(arguments, model, examples, Options([.. options.Records]));
        trainer.RecordOptions([.. options.Records]);
        return trainer;
    }

    public override string ToString() => Name;

    private string DefaultOptionsText() => _options.Length == 0 ? "no options records" : string.Join(", ", _options.Select(o => o.Defaults.GetType().Name));

    private T As<T>(DatasetRow row) where T : DatasetRow => row as T
        ?? throw new TrainingException($"{row.Origin}: {Name} reads {DatasetKindNames.Describe(DatasetKind!.Value)} rows, not {DatasetKindNames.Describe(row.Kind)}");

    // The examples in the shape the method trains on, or an ArgumentException naming both shapes.
    internal IReadOnlyList<SftExample> SftOf(EncodedExamples e) => e.Sft ?? throw Mismatch(e, "SFT sequences (EncodedExamples.ForSft)");
    internal IReadOnlyList<PreferenceExample> PairsOf(EncodedExamples e) => e.Pairs ?? throw Mismatch(e, "preference pairs (EncodedExamples.ForPreference)");
    internal IReadOnlyList<UnpairedExample> UnpairedOf(EncodedExamples e) => e.Unpaired ?? throw Mismatch(e, "unpaired labelled completions (EncodedExamples.ForUnpaired)");
    internal OnlineInputs OnlineOf(EncodedExamples e) => e.Online ?? throw Mismatch(e, "prompts with reward functions (EncodedExamples.ForPrompts)");
    private ArgumentException Mismatch(EncodedExamples e, string wanted) => new($"{Name} trains on {wanted}, not {e.Shape}", "examples");
}

/// <summary>One options record a method reads: its defaults, and how recipe keys bind to it (typed, so no reflection on T).</summary>
internal sealed record OptionsSlot(object Defaults, Func<IDictionary<string, (string Value, string Source)>, object> Bind)
{
    public static OptionsSlot Of<T>(T defaults) where T : class => new(defaults, values => ConfigBinder.Bind(defaults, values));
}

/// <summary>
/// The TRL trainer a method hands off to: its config class (whose field names <c>export trl</c> writes) and the command
/// that runs it with a YAML config (TRL's CLI where it has the method, else TRL's example script).
/// </summary>
/// <param name="ConfigClass">TRL's config dataclass: "DPOConfig", "CPOConfig", ...</param>
/// <param name="Command">The command before <c>--config FILE</c>: "trl dpo", or "accelerate launch examples/scripts/orpo.py" (for REINFORCE++, which TRL lacks, OpenRLHF's launcher, which takes flags).</param>
/// <param name="Note">Why the command is what it is, when it is not TRL's CLI (null otherwise).</param>
public sealed record TrlTrainer(string ConfigClass, string Command, string? Note = null);
