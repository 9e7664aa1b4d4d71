using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using AlignSharp.Alignment.Environments.DemoWorld;
using AlignSharp.Eval.Reports;
using AlignSharp.Models.Transformers;
using AlignSharp.Training;
using AlignSharp.Training.Core;
using AlignSharp.Training.Trainers;

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
    /// <summary>
    /// dpo (pairs: best vs worst), kto (each sample labelled desirable when its score reaches kto_threshold), or an
    /// online method — grpo, ppo, rloo, online_dpo — that samples from the current policy while it trains, rewarded by
    /// <see cref="RewardFuncs"/> (online_dpo: ranked by the signal).
    /// </summary>
    [Description("alignment method: dpo trains on best-vs-worst pairs; kto labels each sample desirable when its score reaches kto_threshold; grpo, ppo, rloo and online_dpo sample from the policy while it trains, rewarded by reward_funcs (online_dpo: its two samples ranked by the signal), at the same sample budget as a dpo round")]
    [AllowedValues("dpo", "kto", "grpo", "ppo", "rloo", "online_dpo")]
    public string Method { get; init; } = "dpo";

    /// <summary>Every method the demo runs (offline: sample, score, train; online: trained while sampling).</summary>
    public static readonly string[] Methods = ["dpo", "kto", "grpo", "ppo", "rloo", "online_dpo"];

    /// <summary>The methods that sample from the policy while it trains (<see cref="OnlineRounds"/>).</summary>
    public static readonly string[] OnlineMethods = ["grpo", "ppo", "rloo", "online_dpo"];

    /// <summary>The keys only online methods read.</summary>
    public static readonly string[] OnlineKeys =
    [
        "reward_funcs", "reward_weights", "num_generations", "generation_batch_size", "online_batch_size", "grpo_learning_rate", "grpo_beta",
        "grpo_loss_type", "scale_rewards", "num_iterations", "epsilon", "rloo_learning_rate", "rloo_beta", "ppo_learning_rate", "ppo_kl_coef", "num_ppo_epochs",
        "online_dpo_learning_rate", "online_dpo_beta",
    ];

    /// <summary>
    /// Methods to compare: each runs its rounds from the same SFT model at the same sample budget (train_prompts ×
    /// samples_per_prompt sampled completions a round) under runs_dir/name/METHOD, and the report has one table of them
    /// all; empty = run <see cref="Method"/> alone.
    /// </summary>
    [Description("methods to compare, e.g. [dpo, grpo, ppo, rloo, online_dpo]: each runs its rounds from the same SFT model at the same sample budget (train_prompts × samples_per_prompt completions sampled a round) into runs_dir/name/METHOD, and one table compares them; empty = run method alone")]
    public IReadOnlyList<string> Compare { get; init; } = [];

    /// <summary>
    /// Online methods: TRL's <c>reward_funcs</c> — the constitution's principles, each its own reward function, scored by
    /// its check (or by the judge for judge_principles with signal: judge) and null where it does not apply (its
    /// applies_to, or a check with nothing to check), so it is left out of that completion's reward, not read as 0.
    /// </summary>
    [Description("online methods: the constitution principles used as reward functions, each scored by its check (the judge's for judge_principles with signal: judge) and left out where it does not apply")]
    public IReadOnlyList<string> RewardFuncs { get; init; } = ["refuse_harmful", "help_benign", "correct_answer", "follow_format"];

    /// <summary>TRL's <c>reward_weights</c>: one weight per reward function; null = 1 each (the reward is the sum over the functions that apply).</summary>
    [Description("online methods: one weight per reward function (null: 1 each); a completion's reward is the weighted sum over the functions that apply")]
    public float[]? RewardWeights { get; init; }

    /// <summary>GRPO and RLOO: TRL's <c>num_generations</c>, completions sampled per prompt (the group of the group-relative / leave-one-out baseline).</summary>
    [Description("grpo, rloo: completions per prompt (the group the baseline is computed over); at least 2")]
    public int NumGenerations { get; init; } = 4;

    /// <summary>Online methods: TRL's <c>generation_batch_size</c>, completions sampled per generation batch (a multiple of num_generations and of online_batch_size).</summary>
    [Description("grpo, rloo, ppo: completions sampled per generation batch, trained on in micro-batches of online_batch_size; a multiple of both")]
    public int GenerationBatchSize { get; init; } = 80;

    /// <summary>Online methods: completions per optimizer step (TRL's per_device_train_batch_size; online_dpo: half as many pairs).</summary>
    [Description("online methods: completions per optimizer step (online_dpo: this many completions = half as many pairs)")]
    public int OnlineBatchSize { get; init; } = 16;

    [Description("grpo: peak learning rate (linear schedule)")]
    public float GrpoLearningRate { get; init; } = 5e-5f;

    [Description("grpo: TRL's beta, weight of the k3 KL penalty to the previous round's policy (0 = no reference)")]
    public float GrpoBeta { get; init; } = 0.04f;

    [Description("grpo: TRL's loss_type (aggregation over tokens)")]
    public GrpoLossType GrpoLossType { get; init; } = GrpoLossType.Dapo;

    [Description("grpo: TRL's scale_rewards (divide group advantages by the group's std, the batch's, or not)")]
    public RewardScaling ScaleRewards { get; init; } = RewardScaling.Group;

    [Description("grpo, rloo: TRL's num_iterations, passes over each generation batch")]
    public int NumIterations { get; init; } = 1;

    [Description("grpo, rloo, ppo: clipping range ε of the importance ratio")]
    public float Epsilon { get; init; } = 0.2f;

    [Description("rloo: peak learning rate (linear schedule)")]
    public float RlooLearningRate { get; init; } = 5e-5f;

    [Description("rloo: TRL's beta, the k1 KL to the previous round's policy summed over the completion and subtracted from its reward")]
    public float RlooBeta { get; init; } = 0.05f;

    [Description("ppo: peak learning rate (linear schedule)")]
    public float PpoLearningRate { get; init; } = 5e-5f;

    [Description("ppo: TRL's kl_coef, the per-token KL penalty to the previous round's policy in the reward")]
    public float PpoKlCoef { get; init; } = 0.05f;

    [Description("ppo: TRL's num_ppo_epochs, passes over each rollout batch (1: one pass, as grpo and rloo's num_iterations; TRL's default is 4)")]
    public int NumPpoEpochs { get; init; } = 1;

    [Description("online_dpo: peak learning rate (linear schedule)")]
    public float OnlineDpoLearningRate { get; init; } = 1e-4f;

    [Description("online_dpo: TRL's beta, strength of the pull towards the previous round's policy")]
    public float OnlineDpoBeta { get; init; } = 0.1f;
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

    /// <summary>The methods this recipe runs: <see cref="Compare"/>'s, or <see cref="Method"/> alone.</summary>
    public IReadOnlyList<string> RunMethods => Compare.Count > 0 ? Compare : [Method];

    /// <summary>
    /// TrainingArguments of an online round: the method's learning rate (grpo_learning_rate, ...), online_batch_size
    /// completions a step (online_dpo: half as many prompts, two completions each), max_length, seed; linear schedule;
    /// <paramref name="maxSteps"/> from the sample budget (<see cref="OnlineRounds.Plan"/>).
    /// </summary>
    public TrainingArguments OnlineArguments(string method, string model, string outputDir, int maxSteps, bool resume) => new()
    {
        Model = model, OutputDir = outputDir, LrSchedulerType = "linear", MaxSteps = maxSteps, MaxLength = MaxLength,
        LearningRate = method switch { "grpo" => GrpoLearningRate, "rloo" => RlooLearningRate, "ppo" => PpoLearningRate, _ => OnlineDpoLearningRate },
        PerDeviceTrainBatchSize = method == "online_dpo" ? OnlineBatchSize / 2 : OnlineBatchSize,
        LoggingSteps = 5, SaveSteps = 100, Seed = Seed, Resume = resume, OverwriteOutputDir = !resume,
    };

    /// <summary>The online methods' keys (called by <see cref="Validate"/> when a run uses one).</summary>
    private void ValidateOnline()
    {
        if (RewardFuncs.Count == 0) throw new TrainingException("reward_funcs: name at least one principle of the constitution to reward");
        if (RewardWeights is { } w && w.Length != RewardFuncs.Count)
            throw new TrainingException($"reward_weights: {w.Length} weights for {RewardFuncs.Count} reward_funcs; give one per function, or null for 1 each");
        if (RewardWeights is { } weights && weights.Any(x => !float.IsFinite(x))) throw new TrainingException("reward_weights: every weight must be a finite number");
        if (NumGenerations < 2) throw new TrainingException($"num_generations must be ≥ 2 (got {NumGenerations}): the baseline is the other completions of the prompt");
        if (OnlineBatchSize < 2 || OnlineBatchSize % 2 != 0) throw new TrainingException($"online_batch_size must be an even number ≥ 2 (got {OnlineBatchSize}; online_dpo trains pairs)");
        if (GenerationBatchSize < 1 || GenerationBatchSize % NumGenerations != 0 || GenerationBatchSize % OnlineBatchSize != 0)
            throw new TrainingException($"generation_batch_size must be a positive multiple of num_generations ({NumGenerations}) and of online_batch_size ({OnlineBatchSize}) (got {GenerationBatchSize})");
        AtLeast("num_iterations", NumIterations, 1);
        AtLeast("num_ppo_epochs", NumPpoEpochs, 1);
        Positive("grpo_learning_rate", GrpoLearningRate); Positive("rloo_learning_rate", RlooLearningRate);
        Positive("ppo_learning_rate", PpoLearningRate); Positive("online_dpo_learning_rate", OnlineDpoLearningRate);
        Positive("online_dpo_beta", OnlineDpoBeta); Positive("epsilon", Epsilon);
        AtLeast("grpo_beta", GrpoBeta, 0); AtLeast("rloo_beta", RlooBeta, 0); AtLeast("ppo_kl_coef", PpoKlCoef, 0);
        if (!(SampleTemperature > 0)) throw new TrainingException($"sample_temperature must be positive for online methods (got {SampleTemperature}): they learn from sampled completions");
    }

    private static void AtLeast(string key, double value, double min) { if (value < min) throw new TrainingException($"{key} must be ≥ {min} (got {value})"); }
    private static void Positive(string key, double value) { if (!(value > 0)) throw new TrainingException($"{key} must be positive (got {value})"); }

    /// <summary>
    /// Checks every key's value, naming the key as the recipe spells it, so a bad value fails before the first stage
    /// instead of after minutes of work (the world, tokenizer and model shape are all fixed by these values).
    /// </summary>
    /// <exception cref="TrainingException">The first key whose value cannot work, with the value and the fix.</exception>
    public DemoOptions Validate()
    {
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
        AtLeast("samples_per_prompt", SamplesPerPrompt, Method == "dpo" || Compare.Contains("dpo") ? 2 : 1);
        AtLeast("sample_temperature", SampleTemperature, 0);
        AtLeast("max_new_tokens", MaxNewTokens, 1);
        if (!Methods.Contains(Method)) throw new TrainingException($"method: '{Method}' is not one of {string.Join(", ", Methods)}");
        foreach (var m in Compare)
            if (!Methods.Contains(m)) throw new TrainingException($"compare: '{m}' is not one of {string.Join(", ", Methods)}");
        if (Compare.Distinct().Count() != Compare.Count) throw new TrainingException($"compare: a method is listed twice ([{string.Join(", ", Compare)}])");
        if (RunMethods.Any(m => OnlineMethods.Contains(m))) ValidateOnline();
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
