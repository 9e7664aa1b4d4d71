using AlignSharp.Feedback;
using AlignSharp.Feedback.Judges;
using AlignSharp.Training.Data;
using AlignSharp.Training.Online;

namespace AlignSharp.Training.Methods;

/// <summary>
/// Training examples already turned into token ids, in the shape a method trains on: SFT sequences, preference pairs
/// (RM, DPO, ORPO, SimPO), unpaired labelled completions (KTO), or prompts with their reward functions (the online
/// methods, which sample their own completions). Exactly one is set. Pipelines that build
/// their data in memory pass these to <see cref="TrainingMethod.CreateTrainer"/>; <see cref="TrainingMethod.Encode"/>
/// builds them from dataset rows.
/// </summary>
public sealed record EncodedExamples
{
    private EncodedExamples(int padId) => PadId = padId;

    /// <summary>SFT sequences with their labels.</summary>
    public IReadOnlyList<SftExample>? Sft { get; private init; }

    /// <summary>prompt / chosen / rejected pairs.</summary>
    public IReadOnlyList<PreferenceExample>? Pairs { get; private init; }

    /// <summary>prompt / completion / desirable-or-not examples.</summary>
    public IReadOnlyList<UnpairedExample>? Unpaired { get; private init; }

    /// <summary>Prompts to sample, with the policy's tokenizer and the reward functions (online methods).</summary>
    public OnlineInputs? Online { get; private init; }

    /// <summary>The id batches are padded with (masked out, so any id works).</summary>
    public int PadId { get; }

    /// <summary>The end-of-sequence id (SFT packing separates examples with it).</summary>
    public int? EosId { get; private init; }

    /// <summary>Malformed dataset rows left out (skip_bad_rows), reported with the run's results.</summary>
    public int SkippedRows { get; private init; }

    /// <summary>The number of examples.</summary>
    public int Count => Sft?.Count ?? Pairs?.Count ?? Unpaired?.Count ?? Online!.Prompts.Count;

    /// <summary>The shape of the examples, as the dataset kind they come from.</summary>
    public string Shape => Sft is not null ? "SFT sequences" : Pairs is not null ? "preference pairs" : Unpaired is not null ? "unpaired labelled completions" : "prompts with reward functions";

    public static EncodedExamples ForSft(IReadOnlyList<SftExample> examples, int padId, int? eosId, int skippedRows = 0) =>
        new(padId) { Sft = examples ?? throw new ArgumentNullException(nameof(examples)), EosId = eosId, SkippedRows = skippedRows };

    public static EncodedExamples ForPreference(IReadOnlyList<PreferenceExample> pairs, int padId, int skippedRows = 0) =>
        new(padId) { Pairs = pairs ?? throw new ArgumentNullException(nameof(pairs)), SkippedRows = skippedRows };

    public static EncodedExamples ForUnpaired(IReadOnlyList<UnpairedExample> examples, int padId, int skippedRows = 0) =>
        new(padId) { Unpaired = examples ?? throw new ArgumentNullException(nameof(examples)), SkippedRows = skippedRows };

    public static EncodedExamples ForPrompts(OnlineInputs inputs, int skippedRows = 0) =>
        new(inputs.Encoder.PadId) { Online = inputs ?? throw new ArgumentNullException(nameof(inputs)), SkippedRows = skippedRows };
}

/// <summary>
/// What an online method trains from: prompts, the policy's tokenizer and chat template (prompts are rendered with it
/// for sampling), the reward functions, and optionally a pairwise judge (online DPO ranks pairs with it).
/// </summary>
public sealed record OnlineInputs(IReadOnlyList<PromptRecord> Prompts, ExampleTokenizer Encoder, RewardFunctions Rewards)
{
    /// <summary>A pairwise judge that ranks online DPO's two samples instead of the reward functions.</summary>
    public PairwiseJudge? Judge { get; init; }
}
