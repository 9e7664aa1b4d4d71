// Supervised fine-tuning: the causal language-modelling loss on demonstrations — the completions of
// prompt–completion rows, the assistant turns of conversations, or whole texts (as TRL's SFTTrainer).
using AlignSharp.Tensors;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;

namespace AlignSharp.Training.Trainers;

/// <summary>
/// SFT: mean cross-entropy over the tokens that carry labels (next-token prediction, labels shifted by one),
/// with optional packing of examples into full-length rows.
/// </summary>
public sealed class SftTrainer : Trainer
{
    private readonly IReadOnlyList<SftExample>? _examples;
    private readonly IReadOnlyList<PackedSequence>? _packed;
    private readonly int _padId;

    public SftTrainer(TrainingArguments args, TrainableModel model, IReadOnlyList<SftExample> examples, int padId, int? eosId, int skippedRows = 0)
        : base(args, model)
    {
        _padId = padId;
        SkippedRows = skippedRows;
        if (args.Packing) _packed = SequencePacker.Pack(examples, args.MaxLength, eosId);
        else _examples = examples;
    }

    protected override int ExampleCount => _packed?.Count ?? _examples!.Count;

    protected override BatchLoss ComputeLoss(int[] examples)
    {
        var batch = _packed is not null
            ? Collator.Packed(examples.Select(i => _packed[i]).ToList(), _padId)
            : Collator.Sft(examples.Select(i => _examples![i]).ToList(), _padId);
        var targets = SequenceLogProbs.ShiftedTargets(batch);
        var mask = Tensor.FromArray(batch.AttentionMask, batch.B, batch.T);
        var logits = Model.Transformer.Forward(batch.InputIds, batch.B, batch.T, mask, batch.PositionIds);
        var loss = Ops.CrossEntropy(logits, targets);
        int tokens = targets.Count(t => t != Ops.IgnoreIndex);
        return new BatchLoss(loss, new Dictionary<string, float> { ["num_tokens"] = tokens }, tokens);
    }
}
