namespace AlignSharp.Training.Core;

/// <summary>
/// Options every trainer shares, with the names TRL and transformers' TrainingArguments use (as YAML keys in
/// snake_case). Method-specific options (beta, loss_type, ...) live in each method's own options record.
/// </summary>
public sealed record TrainingArguments
{
    /// <summary>Model folder (Hugging Face layout) to start from.</summary>
    public string Model { get; init; } = "";
    [System.ComponentModel.Description("Base model folder when model is a PEFT adapter folder (default: the adapter's base_model_name_or_path).")]
    public string? BaseModel { get; init; }
    /// <summary>Training data, JSONL in one of TRL's formats.</summary>
    public string Dataset { get; init; } = "";
    /// <summary>Optional evaluation data (same format).</summary>
    public string? EvalDataset { get; init; }
    /// <summary>Where checkpoints, metrics and the final model go.</summary>
    public string OutputDir { get; init; } = "runs/train";
    public float LearningRate { get; init; } = 2e-5f;
    /// <summary>constant, linear or cosine (each after warmup).</summary>
    public string LrSchedulerType { get; init; } = "linear";
    public int WarmupSteps { get; init; }
    /// <summary>Warmup as a fraction of all steps (used when warmup_steps is 0).</summary>
    public float WarmupRatio { get; init; }
    public int NumTrainEpochs { get; init; } = 1;
    /// <summary>Stop after this many optimizer steps (overrides epochs when positive).</summary>
    public int MaxSteps { get; init; } = -1;
    public int PerDeviceTrainBatchSize { get; init; } = 8;
    public int GradientAccumulationSteps { get; init; } = 1;
    /// <summary>Clip gradients to this global norm (0 = off).</summary>
    public float MaxGradNorm { get; init; } = 1f;
    /// <summary>adamw or sgd.</summary>
    public string Optim { get; init; } = "adamw";
    public float WeightDecay { get; init; }
    public float AdamBeta1 { get; init; } = 0.9f;
    public float AdamBeta2 { get; init; } = 0.999f;
    public float AdamEpsilon { get; init; } = 1e-8f;
    public ulong Seed { get; init; } = 42;
    public int LoggingSteps { get; init; } = 10;
    /// <summary>Checkpoint every this many steps (and at the end); 0 = only at the end.</summary>
    public int SaveSteps { get; init; } = 500;
    /// <summary>Keep at most this many checkpoints (oldest removed first; 0 = keep all).</summary>
    public int SaveTotalLimit { get; init; } = 2;
    /// <summary>Continue from the newest checkpoint in output_dir (refused when settings differ from the run's, see <see cref="RunSettings"/>).</summary>
    public bool Resume { get; init; }
    /// <summary>Keys a resumed run may change although they differ from the run's recorded settings (e.g. [learning_rate] after a NaN stop).</summary>
    public string[]? ResumeOverride { get; init; }
    /// <summary>Let a fresh run delete what output_dir holds (another run's checkpoints, metrics, model); otherwise a non-empty output_dir is refused.</summary>
    public bool OverwriteOutputDir { get; init; }
    public int MaxLength { get; init; } = 1024;
    public int? MaxPromptLength { get; init; } = 512;
    /// <summary>keep_end (drop the start of long prompts) or keep_start.</summary>
    public string TruncationMode { get; init; } = "keep_end";
    /// <summary>SFT: pack examples into full-length rows.</summary>
    public bool Packing { get; init; }
    /// <summary>SFT on prompt–completion data: loss on the completion only.</summary>
    public bool CompletionOnlyLoss { get; init; } = true;
    /// <summary>SFT on conversations: loss on assistant turns only.</summary>
    public bool AssistantOnlyLoss { get; init; }
    /// <summary>Skip and count malformed dataset rows instead of stopping.</summary>
    public bool SkipBadRows { get; init; }
    /// <summary>Chat template override: a file or a built-in name (default: the model's own, else chatml).</summary>
    public string? ChatTemplate { get; init; }
    /// <summary>Train LoRA adapters (PEFT format) on a frozen base instead of all weights.</summary>
    public bool UsePeft { get; init; }
    public int LoraR { get; init; } = 16;
    public float LoraAlpha { get; init; } = 32;
    public float LoraDropout { get; init; } = 0.05f;
    /// <summary>Module names to adapt (default: every attention and MLP projection).</summary>
    public string[]? LoraTargetModules { get; init; }
    public bool UseRslora { get; init; }
    /// <summary>Worker threads (0 = ALIGNSHARP_THREADS or all cores).</summary>
    public int Threads { get; init; }

    public TrainingArguments Validate()
    {
        void Require(bool ok, string message) { if (!ok) throw new TrainingException(message); }
        Require(Model.Length > 0, "model: required (a model folder)");
        Require(Dataset.Length > 0, "dataset: required (a JSONL file)");
        Require(PerDeviceTrainBatchSize > 0, $"per_device_train_batch_size must be positive (got {PerDeviceTrainBatchSize})");
        Require(GradientAccumulationSteps > 0, $"gradient_accumulation_steps must be positive (got {GradientAccumulationSteps})");
        Require(NumTrainEpochs > 0 || MaxSteps > 0, "num_train_epochs or max_steps must be positive");
        Require(Optim is "adamw" or "sgd", $"optim: '{Optim}' is not adamw or sgd");
        Require(TruncationMode is "keep_end" or "keep_start", $"truncation_mode: '{TruncationMode}' is not keep_end or keep_start");
        Require(MaxLength > 1, $"max_length must be above 1 (got {MaxLength})");
        Require(WarmupRatio is >= 0 and < 1, $"warmup_ratio must be in [0, 1) (got {WarmupRatio})");
        return this;
    }
}
