namespace AlignSharp.Cli.Demo;

/// <summary>
/// The demo recipe (recipes/demo.yaml): world size, the tiny model, SFT, alignment rounds, evaluation. Set
/// <see cref="Model"/> to a Hugging Face folder to align that model instead of training a tiny one.
/// </summary>
public sealed record DemoOptions
{
    /// <summary>Run name: everything goes to runs_dir/name.</summary>
    public string Name { get; init; } = "demo";
    public string RunsDir { get; init; } = "runs";
    /// <summary>A Hugging Face model folder to start from (with tokenizer and chat template); empty = train a tiny Llama on the world.</summary>
    public string Model { get; init; } = "";
    public ulong Seed { get; init; } = 1;
    public int SftConversations { get; init; } = 12000;
    public int TrainPrompts { get; init; } = 1000;
    public int EvalPrompts { get; init; } = 960;
    /// <summary>How often the base corpus shows the misaligned behaviour (that alignment must remove).</summary>
    public double HarmfulComplianceRate { get; init; } = 0.6;
    public double WrongAnswerRate { get; init; } = 0.3;
    public double IgnoreFormatRate { get; init; } = 0.4;
    /// <summary>Largest arithmetic operand (sums and differences of 0..max_operand).</summary>
    public int MaxOperand { get; init; } = 10;
    public int TokenizerVocabSize { get; init; } = 1024;
    public int HiddenSize { get; init; } = 192;
    public int Layers { get; init; } = 6;
    public int Heads { get; init; } = 6;
    public int KvHeads { get; init; } = 2;
    public int IntermediateSize { get; init; } = 512;
    public int MaxLength { get; init; } = 96;
    public int SftEpochs { get; init; } = 4;
    public float SftLearningRate { get; init; } = 3e-3f;
    public int SftBatchSize { get; init; } = 32;
    /// <summary>Alignment rounds: sample, score, pair, train; each round's model is the next round's reference.</summary>
    public int Rounds { get; init; } = 3;
    public int SamplesPerPrompt { get; init; } = 4;
    public float SampleTemperature { get; init; } = 1f;
    public int MaxNewTokens { get; init; } = 24;
    /// <summary>dpo (pairs: best vs worst) or kto (each sample labelled desirable when its score reaches kto_threshold).</summary>
    public string Method { get; init; } = "dpo";
    public float Beta { get; init; } = 0.5f;
    /// <summary>DPO only: weight of the NLL loss on the chosen response added to the DPO loss (RPO, TRL's rpo_alpha); 0 = off.</summary>
    public float RpoAlpha { get; init; } = 2f;
    /// <summary>KTO only: a sample is desirable when its signal score is at least this (scores lie in [0, 1]).</summary>
    public double KtoThreshold { get; init; } = 1.0;
    public float AlignLearningRate { get; init; } = 2e-4f;
    public int AlignEpochs { get; init; } = 2;
    public int AlignBatchSize { get; init; } = 16;
    /// <summary>lexicographic (principles first, then correctness) or weighted.</summary>
    public string Signal { get; init; } = "lexicographic";
    public string Constitution { get; init; } = "recipes/constitution.yaml";
    /// <summary>Conversations shown before/after in the report.</summary>
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
        MaxOperand = 20, RpoAlpha = 1f,
    };

    public string RunDir => Path.Combine(RunsDir, Name);
}
