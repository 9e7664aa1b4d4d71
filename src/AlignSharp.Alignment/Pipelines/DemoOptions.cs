using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using AlignSharp.Alignment.Environments.DemoWorld;
using AlignSharp.Eval.Reports;
using AlignSharp.Models.Transformers;
using AlignSharp.Training;
using AlignSharp.Training.Core;

namespace AlignSharp.Alignment.Pipelines;

/// <summary>
/// The demo recipe (recipes/demo.yaml): world size, the tiny model, SFT, alignment rounds, evaluation. Set
/// <see cref="Model"/> to a Hugging Face folder to align that model instead of training a tiny one.
/// </summary>
public sealed record DemoOptions
{
    /// <summary>Run name: everything goes to runs_dir/name.</summary>
    [Description("run name: everything goes to runs_dir/name")]
    public string Name { get; init; } = "demo";
    [Description("folder that holds the runs")]
    public string RunsDir { get; init; } = "runs";
    /// <summary>A Hugging Face model folder to start from (with tokenizer and chat template); empty = train a tiny Llama on the world.</summary>
    [Description("a Hugging Face model folder to align (with tokenizer and chat template); empty = train a tiny Llama on the world")]
    public string Model { get; init; } = "";
    [Description("seed of the world, the model and the sampling")]
    public ulong Seed { get; init; } = 1;
    [Description("generated SFT conversations")]
    public int SftConversations { get; init; } = 12000;
    [Description("prompts sampled and scored each alignment round")]
    public int TrainPrompts { get; init; } = 1000;
    [Description("held-out prompts of the before/after evaluation")]
    public int EvalPrompts { get; init; } = 960;
    /// <summary>How often the base corpus shows the misaligned behaviour (that alignment must remove).</summary>
    [Description("share of harmful requests the base corpus complies with (what alignment must remove); in [0, 1]")]
    public double HarmfulComplianceRate { get; init; } = 0.6;
    [Description("share of wrong arithmetic answers in the base corpus; in [0, 1]")]
    public double WrongAnswerRate { get; init; } = 0.3;
    [Description("share of ignored format instructions in the base corpus; in [0, 1]")]
    public double IgnoreFormatRate { get; init; } = 0.4;
    /// <summary>Largest arithmetic operand (sums and differences of 0..max_operand).</summary>
    [Description("largest arithmetic operand (sums and differences of 0..max_operand); at least 1")]
    public int MaxOperand { get; init; } = 10;
    [Description("vocabulary of the byte-level BPE trained on the world (at least 259: 256 bytes + 3 special tokens)")]
    public int TokenizerVocabSize { get; init; } = 1024;
    [Description("tiny model: hidden size; hidden_size / heads must be even (rotary embeddings)")]
    public int HiddenSize { get; init; } = 192;
    [Description("tiny model: transformer layers")]
    public int Layers { get; init; } = 6;
    [Description("tiny model: attention heads; must divide hidden_size")]
    public int Heads { get; init; } = 6;
    [Description("tiny model: key/value heads (grouped-query attention); must divide heads")]
    public int KvHeads { get; init; } = 2;
    [Description("tiny model: MLP width")]
    public int IntermediateSize { get; init; } = 512;
    [Description("longest training sequence in tokens; at most the model's max_position_embeddings")]
    public int MaxLength { get; init; } = 96;
    [Description("SFT passes over the conversations (0 with model: = align the folder as it is)")]
    public int SftEpochs { get; init; } = 4;
    [Description("SFT peak learning rate (cosine schedule)")]
    public float SftLearningRate { get; init; } = 3e-3f;
    [Description("SFT examples per optimizer step")]
    public int SftBatchSize { get; init; } = 32;
    /// <summary>Alignment rounds: sample, score, pair, train; each round's model is the next round's reference.</summary>
    [Description("alignment rounds: sample, score, pair, train; each round's model is the next round's reference")]
    public int Rounds { get; init; } = 3;
    [Description("responses sampled per prompt and round (at least 2 for dpo pairs)")]
    public int SamplesPerPrompt { get; init; } = 4;
    [Description("sampling temperature of the rounds")]
    public float SampleTemperature { get; init; } = 1f;
    [Description("longest sampled response in tokens")]
    public int MaxNewTokens { get; init; } = 24;
    /// <summary>dpo (pairs: best vs worst) or kto (each sample labelled desirable when its score reaches kto_threshold).</summary>
    [Description("alignment method: dpo trains on best-vs-worst pairs; kto labels each sample desirable when its score reaches kto_threshold")]
    [AllowedValues("dpo", "kto")]
    public string Method { get; init; } = "dpo";
    [Description("β of DPO/KTO: strength of the pull towards the reference model")]
    public float Beta { get; init; } = 0.5f;
    /// <summary>DPO only: weight of the NLL loss on the chosen response added to the DPO loss (RPO, TRL's rpo_alpha); 0 = off.</summary>
    [Description("DPO only: weight of the NLL loss on the chosen response added to the DPO loss (RPO, TRL's rpo_alpha); 0 = off")]
    public float RpoAlpha { get; init; } = 2f;
    /// <summary>KTO only: a sample is desirable when its signal score is at least this (scores lie in [0, 1]).</summary>
    [Description("KTO only: a sample is desirable when its signal score is at least this; in [0, 1]")]
    public double KtoThreshold { get; init; } = 1.0;
    [Description("alignment peak learning rate (linear schedule)")]
    public float AlignLearningRate { get; init; } = 2e-4f;
    [Description("passes over each round's rows")]
    public int AlignEpochs { get; init; } = 2;
    [Description("alignment rows per optimizer step")]
    public int AlignBatchSize { get; init; } = 16;
    /// <summary>lexicographic (principles first, then correctness), weighted, or judge (lexicographic, with judge_principles scored by an LLM judge over the OpenAI API).</summary>
    [Description("lexicographic ranks by the harm/helpfulness principles first, then correctness; weighted averages all principles; judge is lexicographic with judge_principles scored by a model over the OpenAI API (the judge: block's endpoint, else a judge trained on the world and served on loopback)")]
    [AllowedValues("lexicographic", "weighted", "judge")]
    public string Signal { get; init; } = "lexicographic";

    /// <summary>signal judge: the principles the judge scores (each within its applies_to); the others keep their programmatic checks.</summary>
    [Description("signal judge: principles the judge scores (each within its applies_to); the others keep their programmatic checks")]
    public IReadOnlyList<string> JudgePrinciples { get; init; } = ["refuse_harmful", "help_benign"];

    [Description("signal judge, embedded judge: judging examples per principle it is trained on (half \"No\")")]
    public int JudgeExamples { get; init; } = 500;

    [Description("signal judge, embedded judge: SFT passes over its judging examples")]
    public int JudgeEpochs { get; init; } = 20;

    [Description("signal judge, embedded judge: its SFT learning rate")]
    public float JudgeLearningRate { get; init; } = 1e-3f;

    [Description("signal judge: judge requests in flight at once")]
    public int JudgeConcurrency { get; init; } = 32;
    [Description("the constitution YAML: principles and the checks that score them")]
    public string Constitution { get; init; } = "recipes/constitution.yaml";
    [Description("where prompts, demonstrations and checks come from: assistant_world (the embedded generated world)")]
    [AllowedValues(DemoWorldEnvironment.RecipeName)]
    public string Environment { get; init; } = DemoWorldEnvironment.RecipeName;
    [Description("report goal: relative drop of harmful compliance from SFT to the last round required; in [0, 1]")]
    public double GoalMinHarmfulDrop { get; init; } = 0.8;
    [Description("report goal: over-refusal of the last round must stay below this; in [0, 1]")]
    public double GoalMaxOverRefusal { get; init; } = 0.05;
    [Description("report goal: verifiable accuracy may fall by at most this from SFT (absolute); in [0, 1]")]
    public double GoalMaxAccuracyDrop { get; init; } = 0;
    /// <summary>Conversations shown before/after in the report.</summary>
    [Description("conversations shown before/after in the report")]
    public int ReportSamples { get; init; } = 8;

    /// <summary>
    /// The smaller settings of `demo --quick` (about a minute on two cores): a 0.9M-parameter model on 3,000
    /// conversations, two rounds, with the operand range and RPO weight it was measured to meet the goal with
    /// (on held-out prompts of three seeds; the full demo's settings cost this small model accuracy on two of them).
    /// </summary>
    public DemoOptions Quick() => this with
    {
        Name = Name == "demo" ? "demo-quick" : Name,
        SftConversations = 3000, SftEpochs = 6, HiddenSize = 128, Layers = 4, Heads = 4, KvHeads = 2, IntermediateSize = 384, Rounds = 2,
        MaxOperand = 20, RpoAlpha = 1f, JudgeExamples = 250,
    };

    public string RunDir => Path.Combine(RunsDir, Name);

    /// <summary>The report's success thresholds (goal_* keys).</summary>
    public ReportGoal Goal => new(GoalMinHarmfulDrop, GoalMaxOverRefusal, GoalMaxAccuracyDrop);

    // The one table from this recipe's keys to the trainers' TrainingArguments: sft_* keys → the SFT stage, align_*
    // keys (and beta, rpo_alpha, kto_threshold) → each round's DPO/KTO stage; seed and max_length → both. Every other
    // TrainingArguments key keeps its default.

    /// <summary>TrainingArguments of the SFT stage: sft_learning_rate, sft_epochs, sft_batch_size, max_length, seed; cosine schedule, 5% warm-up, loss on assistant turns only.</summary>
    public TrainingArguments SftArguments(string model, string dataset, string outputDir, bool resume) => new()
    {
        Model = model, Dataset = dataset, OutputDir = outputDir, LearningRate = SftLearningRate,
        LrSchedulerType = "cosine", WarmupRatio = 0.05f, NumTrainEpochs = SftEpochs, PerDeviceTrainBatchSize = SftBatchSize,
        AssistantOnlyLoss = true, MaxLength = MaxLength, LoggingSteps = 10, SaveSteps = 200, Seed = Seed, Resume = resume, OverwriteOutputDir = !resume,
    };

    /// <summary>TrainingArguments of a round's DPO/KTO stage: align_learning_rate, align_epochs, align_batch_size, max_length (prompt: half), seed; linear schedule.</summary>
    public TrainingArguments AlignArguments(string model, string dataset, string outputDir, bool resume) => new()
    {
        Model = model, Dataset = dataset, OutputDir = outputDir, LearningRate = AlignLearningRate,
        LrSchedulerType = "linear", NumTrainEpochs = AlignEpochs, PerDeviceTrainBatchSize = AlignBatchSize,
        MaxLength = MaxLength, MaxPromptLength = MaxLength / 2, LoggingSteps = 5, SaveSteps = 100, Seed = Seed, Resume = resume, OverwriteOutputDir = !resume,
    };

    /// <summary>
    /// Checks every key's value, naming the key as the recipe spells it, so a bad value fails before the first stage
    /// instead of after minutes of work (the world, tokenizer and model shape are all fixed by these values).
    /// </summary>
    /// <exception cref="TrainingException">The first key whose value cannot work, with the value and the fix.</exception>
    public DemoOptions Validate()
    {
        void AtLeast(string key, double value, double min) { if (value < min) throw new TrainingException($"{key} must be ≥ {min} (got {value})"); }
        void Positive(string key, double value) { if (!(value > 0)) throw new TrainingException($"{key} must be positive (got {value})"); }
        void Fraction(string key, double value) { if (value is < 0 or > 1 || double.IsNaN(value)) throw new TrainingException($"{key} must be in [0, 1] (got {value})"); }

        if (Name.Length == 0) throw new TrainingException("name must not be empty (it names the run's folder)");
        if (RunsDir.Length == 0) throw new TrainingException("runs_dir must not be empty");
        AtLeast("sft_conversations", SftConversations, Model.Length > 0 && SftEpochs == 0 ? 0 : 1);
        AtLeast("train_prompts", TrainPrompts, Rounds > 0 ? 1 : 0);
        AtLeast("eval_prompts", EvalPrompts, 1);
        Fraction("harmful_compliance_rate", HarmfulComplianceRate);
        Fraction("wrong_answer_rate", WrongAnswerRate);
        Fraction("ignore_format_rate", IgnoreFormatRate);
        AtLeast("max_operand", MaxOperand, 1);
        if (Model.Length == 0)
        {
            AtLeast("tokenizer_vocab_size", TokenizerVocabSize, 259);
            AtLeast("hidden_size", HiddenSize, 1);
            AtLeast("layers", Layers, 1);
            AtLeast("heads", Heads, 1);
            AtLeast("kv_heads", KvHeads, 1);
            AtLeast("intermediate_size", IntermediateSize, 1);
            if (HiddenSize % Heads != 0) throw new TrainingException($"heads: hidden_size {HiddenSize} must be divisible by heads {Heads}");
            if (Heads % KvHeads != 0) throw new TrainingException($"kv_heads: heads {Heads} must be divisible by kv_heads {KvHeads}");
            if (HiddenSize / Heads % 2 != 0)
                throw new TrainingException($"heads: the head size hidden_size / heads = {HiddenSize} / {Heads} = {HiddenSize / Heads} must be even for rotary embeddings");
            AtLeast("sft_epochs", SftEpochs, 1);
        }
        else AtLeast("sft_epochs", SftEpochs, 0);
        AtLeast("max_length", MaxLength, 2);
        Positive("sft_learning_rate", SftLearningRate);
        AtLeast("sft_batch_size", SftBatchSize, 1);
        AtLeast("rounds", Rounds, 0);
        AtLeast("samples_per_prompt", SamplesPerPrompt, Method == "dpo" ? 2 : 1);
        AtLeast("sample_temperature", SampleTemperature, 0);
        AtLeast("max_new_tokens", MaxNewTokens, 1);
        if (Method is not ("dpo" or "kto")) throw new TrainingException($"method: '{Method}' is not dpo or kto");
        if (Signal is not ("lexicographic" or "weighted" or "judge")) throw new TrainingException($"signal: '{Signal}' is not lexicographic, weighted or judge");
        if (Signal == "judge")
        {
            if (JudgePrinciples.Count == 0) throw new TrainingException("judge_principles: name at least one principle for the judge to score (signal: judge)");
            AtLeast("judge_examples", JudgeExamples, 2);
            AtLeast("judge_epochs", JudgeEpochs, 1);
            Positive("judge_learning_rate", JudgeLearningRate);
            AtLeast("judge_concurrency", JudgeConcurrency, 1);
        }
        if (Environment != DemoWorldEnvironment.RecipeName) throw new TrainingException($"environment: '{Environment}' is not known; known: {DemoWorldEnvironment.RecipeName}");
        Fraction("goal_min_harmful_drop", GoalMinHarmfulDrop);
        Fraction("goal_max_over_refusal", GoalMaxOverRefusal);
        Fraction("goal_max_accuracy_drop", GoalMaxAccuracyDrop);
        Positive("beta", Beta);
        AtLeast("rpo_alpha", RpoAlpha, 0);
        Fraction("kto_threshold", KtoThreshold);
        Positive("align_learning_rate", AlignLearningRate);
        AtLeast("align_epochs", AlignEpochs, 1);
        AtLeast("align_batch_size", AlignBatchSize, 1);
        AtLeast("report_samples", ReportSamples, 0);
        if (Constitution.Length == 0) throw new TrainingException("constitution must name a constitution YAML file");
        return this;
    }

    /// <summary>
    /// With <see cref="Model"/> set: its config.json must load and hold max_length tokens (positions past
    /// max_position_embeddings have no embedding, or rotary scaling the model never trained on).
    /// </summary>
    public void ValidateModel()
    {
        if (Model.Length == 0) return;
        string path = Path.Combine(Model, "config.json");
        if (!File.Exists(path)) throw new TrainingException($"model: {Model} has no config.json (a Hugging Face model folder is expected)");
        var config = ModelConfig.FromJson(File.ReadAllText(path), path);
        ContextLength.Require(MaxLength, config, path);
    }
}
