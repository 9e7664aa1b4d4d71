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
        RequireLearnableTokens(args, examples);
        if (args.Packing) _packed = SequencePacker.Pack(examples, args.MaxLength, eosId);
        else _examples = examples;
    }

    /// <summary>
    /// Refuses data in which no row has a token that carries loss: training would run at loss 0, change nothing, and
    /// report success. A row's first label is never a target (labels shift by one), so only labels after it count.
    /// </summary>
    /// <exception cref="TrainingException">Every row is fully masked; the message gives the row count and the likely causes.</exception>
    internal static void RequireLearnableTokens(TrainingArguments args, IReadOnlyList<SftExample> examples)
    {
        if (examples.Count == 0 || examples.Any(e => e.Labels.Skip(1).Any(l => l != Ops.IgnoreIndex))) return;
        var causes = new List<string>();
        if (args.AssistantOnlyLoss)
            causes.Add("assistant_only_loss is on but the chat template marks no assistant tokens (it needs {% generation %} ... {% endgeneration %} " +
                "markers, or renders whose leading turns are prefixes of the full render) or the conversations have no assistant turn; set assistant_only_loss: false or use such a template");
        if (args.CompletionOnlyLoss)
            causes.Add("completion_only_loss is on and the completions are empty (or the rows have no completion); fill the completions or set completion_only_loss: false");
        causes.Add($"max_length {args.MaxLength} may cut every row off before its first trained token; raise max_length or shorten the prompts");
        throw new TrainingException($"{(args.Dataset.Length > 0 ? args.Dataset + ": " : "")}sft: none of the {examples.Count} rows has a token to learn from " +
            $"(every label is masked), so training would run at loss 0 and change nothing. Likely: {string.Join("; or ", causes)}");
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
