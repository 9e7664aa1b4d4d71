using AlignSharp.Training.Data;

namespace AlignSharp.Training.Methods;

/// <summary>
/// Training examples already turned into token ids, in the shape a method trains on: SFT sequences, preference pairs
/// (RM, DPO, ORPO, SimPO) or unpaired labelled completions (KTO). Exactly one of the lists is set. Pipelines that build
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

    /// <summary>The id batches are padded with (masked out, so any id works).</summary>
    public int PadId { get; }

    /// <summary>The end-of-sequence id (SFT packing separates examples with it).</summary>
    public int? EosId { get; private init; }

    /// <summary>Malformed dataset rows left out (skip_bad_rows), reported with the run's results.</summary>
    public int SkippedRows { get; private init; }

    /// <summary>The number of examples.</summary>
    public int Count => Sft?.Count ?? Pairs?.Count ?? Unpaired!.Count;

    /// <summary>The shape of the examples, as the dataset kind they come from.</summary>
    public string Shape => Sft is not null ? "SFT sequences" : Pairs is not null ? "preference pairs" : "unpaired labelled completions";

    public static EncodedExamples ForSft(IReadOnlyList<SftExample> examples, int padId, int? eosId, int skippedRows = 0) =>
        new(padId) { Sft = examples ?? throw new ArgumentNullException(nameof(examples)), EosId = eosId, SkippedRows = skippedRows };

    public static EncodedExamples ForPreference(IReadOnlyList<PreferenceExample> pairs, int padId, int skippedRows = 0) =>
        new(padId) { Pairs = pairs ?? throw new ArgumentNullException(nameof(pairs)), SkippedRows = skippedRows };

    public static EncodedExamples ForUnpaired(IReadOnlyList<UnpairedExample> examples, int padId, int skippedRows = 0) =>
        new(padId) { Unpaired = examples ?? throw new ArgumentNullException(nameof(examples)), SkippedRows = skippedRows };
}
