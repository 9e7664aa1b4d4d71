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
        return Loss(batch, SequenceLogProbs.Logits(Model.Transformer, batch.Sequences));
    }

    /// <summary>The loss of one collated batch from the policy's logits [2B, T, V] over its rows.</summary>
    protected abstract BatchLoss Loss(PreferenceBatch batch, Tensor logits);
}
