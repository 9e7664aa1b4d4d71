// KTO trainer — Ethayarajh et al. 2024, "KTO: Model Alignment as Prospect Theoretic Optimization".
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;

namespace AlignSharp.Training.Trainers;

/// <summary>KTO over unpaired desirable/undesirable completions; see <see cref="Kto"/> for the loss.</summary>
public sealed class KtoTrainer : Trainer
{
    private readonly IReadOnlyList<UnpairedExample> _examples;
    private readonly KtoOptions _options;
    private readonly ReferencePolicy _reference;
    private readonly int _padId;

    /// <summary>A KTO run of <paramref name="model"/> from its current weights, which are the reference unless one is given.</summary>
    /// <param name="reference">
    /// The reference policy to use instead of <paramref name="model"/>'s starting weights (e.g. a model already in
    /// memory); used under no-grad as it is, never modified or disposed here. Without it: the LoRA base of the
    /// policy, or an in-memory snapshot of its weights taken now. No model folder is read either way.
    /// </param>
    public KtoTrainer(TrainingArguments args, TrainableModel model, IReadOnlyList<UnpairedExample> examples, int padId, KtoOptions options, int skippedRows = 0,
        TransformerModel? reference = null)
        : base(args, model)
    {
        if (args.PerDeviceTrainBatchSize < 2)
            throw new TrainingException("per_device_train_batch_size must be at least 2 for KTO: the KL estimate pairs each prompt with another example's completion");
        _examples = examples; _options = options; _padId = padId; SkippedRows = skippedRows;
        _reference = ReferencePolicy.For(model, reference);
    }

    protected override int ExampleCount => _examples.Count;

    protected override BatchLoss ComputeLoss(int[] examples)
    {
        var batch = Collator.Unpaired(examples.Select(i => _examples[i]).ToList(), _padId);
        var (sums, counts) = SequenceLogProbs.Compute(Model.Transformer, batch.Sequences);
        float[] policyKl;
        using (Autograd.NoGrad())
        using (new TensorScope())
            policyKl = SequenceLogProbs.Compute(Model.Transformer, batch.KlSequences).Sums.ToArray();
        int n = batch.Sequences.B;
        var result = Kto.Loss(sums, Tensor.FromArray(_reference.LogProbs(batch.Sequences), n), batch.Desirable,
            Tensor.FromArray(policyKl, n), Tensor.FromArray(_reference.LogProbs(batch.KlSequences), n), _options);
        return new BatchLoss(result.Loss, result.Metrics, counts.Sum());
    }

    public override void Dispose()
    {
        _reference.Dispose();
        base.Dispose();
    }
}
