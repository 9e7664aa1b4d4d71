using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace AlignSharp.Training.Core;

/// <summary>
/// Options every trainer shares, with the names TRL and transformers' TrainingArguments use (as YAML keys in
/// snake_case). Method-specific options (beta, loss_type, ...) live in each method's own options record.
/// </summary>
public sealed record TrainingArguments
{
    /// <summary>Model folder (Hugging Face layout) to start from.</summary>
    [Description("model folder (Hugging Face layout) to start from; required")]
    public string Model { get; init; } = "";
    [Description("base model folder when model is a PEFT adapter folder; default: the adapter's base_model_name_or_path")]
    public string? BaseModel { get; init; }
    /// <summary>Training data, JSONL in one of TRL's formats.</summary>
    [Description("training data: a JSONL file in one of TRL's formats; required")]
    public string Dataset { get; init; } = "";
    /// <summary>Optional evaluation data (same format).</summary>
    [Description("optional evaluation data in the same format")]
    public string? EvalDataset { get; init; }
    /// <summary>Where checkpoints, metrics and the final model go.</summary>
    [Description("folder for checkpoints, metrics.jsonl, TensorBoard logs and the final model")]
    public string OutputDir { get; init; } = "runs/train";
    [Description("peak learning rate (after warmup)")]
    public float LearningRate { get; init; } = 2e-5f;
    /// <summary>constant, linear or cosine (each after warmup).</summary>
    [Description("learning-rate schedule after warmup")]
    [AllowedValues("constant", "linear", "cosine")]
    public string LrSchedulerType { get; init; } = "linear";
    [Description("optimizer steps of linear warmup from 0")]
    public int WarmupSteps { get; init; }
    /// <summary>Warmup as a fraction of all steps (used when warmup_steps is 0).</summary>
    [Description("warmup as a fraction of all steps, used when warmup_steps is 0; in [0, 1)")]
    public float WarmupRatio { get; init; }
    [Description("passes over the dataset")]
    public int NumTrainEpochs { get; init; } = 1;
    /// <summary>Stop after this many optimizer steps (overrides epochs when positive).</summary>
    [Description("stop after this many optimizer steps; overrides num_train_epochs when positive")]
    public int MaxSteps { get; init; } = -1;
    [Description("examples per micro-batch")]
    public int PerDeviceTrainBatchSize { get; init; } = 8;
    [Description("micro-batches per optimizer step (effective batch = this × per_device_train_batch_size)")]
    public int GradientAccumulationSteps { get; init; } = 1;
    /// <summary>Clip gradients to this global norm (0 = off).</summary>
    [Description("clip gradients to this global L2 norm; 0 = no clipping")]
    public float MaxGradNorm { get; init; } = 1f;
    /// <summary>adamw or sgd.</summary>
    [Description("optimizer")]
    [AllowedValues("adamw", "sgd")]
    public string Optim { get; init; } = "adamw";
    [Description("decoupled weight decay (AdamW); not applied to biases and norms")]
    public float WeightDecay { get; init; }
    [Description("AdamW β1 (first-moment decay)")]
    public float AdamBeta1 { get; init; } = 0.9f;
    [Description("AdamW β2 (second-moment decay)")]
    public float AdamBeta2 { get; init; } = 0.999f;
    [Description("AdamW ε added to the denominator")]
    public float AdamEpsilon { get; init; } = 1e-8f;
    [Description("seed for shuffling, dropout and initialisation")]
    public ulong Seed { get; init; } = 42;
    [Description("log metrics every this many optimizer steps")]
    public int LoggingSteps { get; init; } = 10;
    /// <summary>Checkpoint every this many steps (and at the end); 0 = only at the end.</summary>
    [Description("checkpoint every this many steps (and at the end); 0 = only at the end")]
    public int SaveSteps { get; init; } = 500;
    /// <summary>Keep at most this many checkpoints (oldest removed first; 0 = keep all).</summary>
    [Description("keep at most this many checkpoints, oldest removed first; 0 = keep all")]
    public int SaveTotalLimit { get; init; } = 2;
    /// <summary>Continue from the newest checkpoint in output_dir (refused when settings differ from the run's, see <see cref="RunSettings"/>).</summary>
    [Description("continue from the newest checkpoint in output_dir; refused when settings differ from the run's run_settings.json (see resume_override)")]
    public bool Resume { get; init; }
    /// <summary>Keys a resumed run may change although they differ from the run's recorded settings (e.g. [learning_rate] after a NaN stop).</summary>
    [Description("keys a resumed run may change on purpose, e.g. [learning_rate] after a NaN stop")]
    public string[]? ResumeOverride { get; init; }
    /// <summary>Let a fresh run delete what output_dir holds (another run's checkpoints, metrics, model); otherwise a non-empty output_dir is refused.</summary>
    [Description("let a fresh run empty a non-empty output_dir first (otherwise refused)")]
    public bool OverwriteOutputDir { get; init; }
    [Description("longest sequence in tokens (prompt + completion); longer rows are cut; at most the model's max_position_embeddings")]
    public int MaxLength { get; init; } = 1024;
    [Description("longest prompt in tokens for preference methods; null = no separate limit")]
    public int? MaxPromptLength { get; init; } = 512;
    /// <summary>keep_end (drop the start of long prompts) or keep_start.</summary>
    [Description("which end of a long prompt is kept")]
    [AllowedValues("keep_end", "keep_start")]
    public string TruncationMode { get; init; } = "keep_end";
    /// <summary>SFT: pack examples into full-length rows.</summary>
    [Description("SFT: pack examples into full max_length rows")]
    public bool Packing { get; init; }
    /// <summary>SFT on prompt–completion data: loss on the completion only.</summary>
    [Description("SFT on prompt-completion rows: loss on the completion tokens only")]
    public bool CompletionOnlyLoss { get; init; } = true;
    /// <summary>SFT on conversations: loss on assistant turns only.</summary>
    [Description("SFT on conversations: loss on assistant turns only (the template needs {% generation %} markers or prefix-stable renders)")]
    public bool AssistantOnlyLoss { get; init; }
    /// <summary>Skip and count malformed dataset rows instead of stopping.</summary>
    [Description("skip and count malformed dataset rows instead of stopping at the first")]
    public bool SkipBadRows { get; init; }
    /// <summary>Chat template override: a file or a built-in name (default: the model's own, else chatml).</summary>
    [Description("chat template override: a file or a built-in name (chatml, llama3, ...); default: the model's own, else chatml")]
    public string? ChatTemplate { get; init; }
    /// <summary>Train LoRA adapters (PEFT format) on a frozen base instead of all weights.</summary>
    [Description("train LoRA adapters (PEFT format) on a frozen base instead of all weights")]
    public bool UsePeft { get; init; }
    [Description("LoRA rank r")]
    public int LoraR { get; init; } = 16;
    [Description("LoRA scaling numerator: updates are scaled by lora_alpha / r (or / √r with use_rslora)")]
    public float LoraAlpha { get; init; } = 32;
    [Description("dropout on the LoRA input during training")]
    public float LoraDropout { get; init; } = 0.05f;
    /// <summary>Module names to adapt (default: every attention and MLP projection).</summary>
    [Description("module names to adapt, e.g. [q_proj, v_proj]; null = every attention and MLP projection")]
    public string[]? LoraTargetModules { get; init; }
    [Description("rank-stabilised LoRA: scale by lora_alpha / √r")]
    public bool UseRslora { get; init; }
    /// <summary>Worker threads (0 = ALIGNSHARP_THREADS or all cores).</summary>
    [Description("worker threads; 0 = ALIGNSHARP_THREADS or all cores")]
    public int Threads { get; init; }

    /// <summary>Checks every value; <paramref name="requirePaths"/>: model and dataset must be named (a recipe run reads them; a
    /// trainer given an in-memory model and examples by a library caller does not).</summary>
    public TrainingArguments Validate(bool requirePaths = true)
    {
        void Require(bool ok, string message) { if (!ok) throw new TrainingException(message); }
        Require(!requirePaths || Model.Length > 0, "model: required (a model folder)");
        Require(!requirePaths || Dataset.Length > 0, "dataset: required (a JSONL file)");
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
