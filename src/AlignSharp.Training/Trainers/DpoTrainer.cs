// DPO trainer — Rafailov et al. 2023, "Direct Preference Optimization: Your Language Model is Secretly a Reward Model".
// Follows current TRL's DPOTrainer for the batch layout and loss (see Dpo.cs for which TRL version each loss_type follows).
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;

namespace AlignSharp.Training.Trainers;

/// <summary>DPO and its variants over prompt/chosen/rejected pairs; see <see cref="Dpo"/> for the loss.</summary>
public sealed class DpoTrainer : Trainer
{
    private readonly IReadOnlyList<PreferenceExample> _pairs;
    private readonly DpoOptions _options;
    private readonly ReferencePolicy? _reference; // null when precomputed: nothing of it is kept
    private readonly int _padId;
    private readonly float[]?[]? _cached; // per pair: [ref chosen, ref rejected] when precomputed

    /// <summary>A DPO run of <paramref name="model"/> from its current weights, which are the reference unless one is given.</summary>
    /// <param name="precomputeReferenceLogProbs">
    /// Scores every pair under the reference once, here, and keeps only those numbers (full fine-tuning then holds no
    /// second copy of the weights); otherwise the reference scores each batch.
    /// </param>
    /// <param name="reference">
    /// The reference policy to use instead of <paramref name="model"/>'s starting weights (e.g. a model already in
    /// memory); used under no-grad as it is (with its own adapters, if any), never modified or disposed here.
    /// Without it: the LoRA base of the policy, or an in-memory snapshot of its weights taken now (before any resume
    /// restores a checkpoint). No model folder is read either way.
    /// </param>
    public DpoTrainer(TrainingArguments args, TrainableModel model, IReadOnlyList<PreferenceExample> pairs, int padId, DpoOptions options,
        bool precomputeReferenceLogProbs = false, int skippedRows = 0, TransformerModel? reference = null) : base(args, model)
    {
        if (Dpo.OptionsProblem(options) is { } problem) throw new TrainingException($"dpo: {problem}");
        _pairs = pairs; _options = options; _padId = padId; SkippedRows = skippedRows;
        if (!precomputeReferenceLogProbs)
        {
            _reference = ReferencePolicy.For(model, reference);
            return;
        }
        using var once = ReferencePolicy.InPlace(model, reference); // before any update, so the policy's weights are the starting ones
        _cached = new float[]?[pairs.Count];
        for (int i = 0; i < pairs.Count; i += args.PerDeviceTrainBatchSize)
        {
            var idx = Enumerable.Range(i, Math.Min(args.PerDeviceTrainBatchSize, pairs.Count - i)).ToArray();
            var batch = Collator.Preference(idx.Select(j => pairs[j]).ToList(), padId);
            var lp = once.LogProbs(batch.Sequences);
            for (int k = 0; k < idx.Length; k++) _cached[idx[k]] = [lp[k], lp[batch.Pairs + k]];
        }
    }

    protected override int ExampleCount => _pairs.Count;

    protected override BatchLoss ComputeLoss(int[] examples)
    {
        var batch = Collator.Preference(examples.Select(i => _pairs[i]).ToList(), _padId);
        int n = batch.Pairs;
        var (sums, counts) = SequenceLogProbs.Compute(Model.Transformer, batch.Sequences);
        float[] refs = _cached is not null
            ? examples.Select(i => _cached[i]![0]).Concat(examples.Select(i => _cached[i]![1])).ToArray()
            : _reference!.LogProbs(batch.Sequences);
        var result = Dpo.Loss(SequenceLogProbs.Rows(sums, 0, n), SequenceLogProbs.Rows(sums, n, n),
            Tensor.FromArray(refs.AsSpan(0, n), n), Tensor.FromArray(refs.AsSpan(n, n), n),
            counts.AsSpan(0, n), counts.AsSpan(n, n), _options);
        return new BatchLoss(result.Loss, result.Metrics, counts.Sum());
    }

    public override void Dispose()
    {
        _reference?.Dispose();
        base.Dispose();
    }
}
