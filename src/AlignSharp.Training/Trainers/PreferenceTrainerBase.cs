using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;

namespace AlignSharp.Training.Trainers;

/// <summary>Reference-free preference trainers: one policy forward over the concatenated chosen and rejected rows.</summary>
public abstract class PreferenceTrainerBase : Trainer
{
    private readonly IReadOnlyList<PreferenceExample> _pairs;
    private readonly int _padId;

    protected PreferenceTrainerBase(TrainingArguments args, TrainableModel model, IReadOnlyList<PreferenceExample> pairs, int padId, int skippedRows)
        : base(args, model)
    {
        _pairs = pairs; _padId = padId; SkippedRows = skippedRows;
    }

    protected override int ExampleCount => _pairs.Count;

    protected override BatchLoss ComputeLoss(int[] examples)
    {
        var batch = Collator.Preference(examples.Select(i => _pairs[i]).ToList(), _padId);
        var (sums, counts) = SequenceLogProbs.Compute(Model.Transformer, batch.Sequences);
        return Loss(batch, sums, counts);
    }

    protected abstract BatchLoss Loss(PreferenceBatch batch, Tensor sums, int[] counts);
}
