using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;

namespace AlignSharp.Training.Trainers;

/// <summary>
/// The reference policy of DPO and KTO. With LoRA it is the base model without its adapter (no second copy of
/// the weights); otherwise a frozen copy of the starting model. Log-probs are computed under no-grad, either per
/// batch or once up front for every example (<c>precompute_ref_log_probs</c>).
/// </summary>
public sealed class ReferencePolicy : IDisposable
{
    private readonly TransformerModel _policy;
    private readonly TransformerModel? _copy;

    public ReferencePolicy(TransformerModel policy, string? startingModelFolder, bool usesAdapters)
    {
        _policy = policy;
        if (!usesAdapters)
        {
            if (startingModelFolder is null) throw new TrainingException("full fine-tuning with a reference model needs the starting model folder");
            _copy = HuggingFaceFolder.Load(startingModelFolder);
            _copy.SetTrainable(false);
        }
    }

    /// <summary>Σ log π_ref of the labelled tokens per row of <paramref name="batch"/> (constants).</summary>
    public float[] LogProbs(Batch batch)
    {
        using var noGrad = Autograd.NoGrad();
        using var scope = new TensorScope();
        if (_copy is not null) return SequenceLogProbs.Compute(_copy, batch).Sums.ToArray();
        var adapters = _policy.Adapters;
        _policy.Adapters = null;
        try { return SequenceLogProbs.Compute(_policy, batch).Sums.ToArray(); }
        finally { _policy.Adapters = adapters; }
    }

    public void Dispose() => _copy?.Dispose();
}

/// <summary>DPO and its variants over prompt/chosen/rejected pairs; see <see cref="Dpo"/> for the loss.</summary>
public sealed class DpoTrainer : Trainer
{
    private readonly IReadOnlyList<PreferenceExample> _pairs;
    private readonly DpoOptions _options;
    private readonly ReferencePolicy _reference;
    private readonly int _padId;
    private readonly float[]?[]? _cached; // per pair: [ref chosen, ref rejected] when precomputed

    public DpoTrainer(TrainingArguments args, TrainableModel model, IReadOnlyList<PreferenceExample> pairs, int padId, DpoOptions options,
        bool precomputeReferenceLogProbs = false, int skippedRows = 0) : base(args, model)
    {
        _pairs = pairs; _options = options; _padId = padId; SkippedRows = skippedRows;
        _reference = new ReferencePolicy(model.Transformer, args.Model, model is LoraCausalLm);
        if (precomputeReferenceLogProbs)
        {
            _cached = new float[]?[pairs.Count];
            for (int i = 0; i < pairs.Count; i += args.PerDeviceTrainBatchSize)
            {
                var idx = Enumerable.Range(i, Math.Min(args.PerDeviceTrainBatchSize, pairs.Count - i)).ToArray();
                var batch = Collator.Preference(idx.Select(j => pairs[j]).ToList(), padId);
                var lp = _reference.LogProbs(batch.Sequences);
                for (int k = 0; k < idx.Length; k++) _cached[idx[k]] = [lp[k], lp[batch.Pairs + k]];
            }
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
            : _reference.LogProbs(batch.Sequences);
        var result = Dpo.Loss(SequenceLogProbs.Rows(sums, 0, n), SequenceLogProbs.Rows(sums, n, n),
            Tensor.FromArray(refs.AsSpan(0, n), n), Tensor.FromArray(refs.AsSpan(n, n), n),
            counts.AsSpan(0, n), counts.AsSpan(n, n), _options);
        return new BatchLoss(result.Loss, result.Metrics, counts.Sum());
    }

    public override void Dispose()
    {
        _reference.Dispose();
        base.Dispose();
    }
}

/// <summary>KTO over unpaired desirable/undesirable completions; see <see cref="Kto"/> for the loss.</summary>
public sealed class KtoTrainer : Trainer
{
    private readonly IReadOnlyList<UnpairedExample> _examples;
    private readonly KtoOptions _options;
    private readonly ReferencePolicy _reference;
    private readonly int _padId;

    public KtoTrainer(TrainingArguments args, TrainableModel model, IReadOnlyList<UnpairedExample> examples, int padId, KtoOptions options, int skippedRows = 0)
        : base(args, model)
    {
        if (args.PerDeviceTrainBatchSize < 2)
            throw new TrainingException("per_device_train_batch_size must be at least 2 for KTO: the KL estimate pairs each prompt with another example's completion");
        _examples = examples; _options = options; _padId = padId; SkippedRows = skippedRows;
        _reference = new ReferencePolicy(model.Transformer, args.Model, model is LoraCausalLm);
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

/// <summary>ORPO: SFT on chosen plus the odds-ratio penalty, no reference model; see <see cref="Orpo"/>.</summary>
public sealed class OrpoTrainer(TrainingArguments args, TrainableModel model, IReadOnlyList<PreferenceExample> pairs, int padId, OrpoOptions options, int skippedRows = 0)
    : PreferenceTrainerBase(args, model, pairs, padId, skippedRows)
{
    protected override BatchLoss Loss(PreferenceBatch batch, Tensor sums, int[] counts)
    {
        int n = batch.Pairs;
        var average = SequenceLogProbs.Average(sums, counts);
        // The NLL term is the SFT loss on the chosen completions: −Σ chosen log-probs / chosen tokens.
        int chosenTokens = Math.Max(1, counts.Take(n).Sum());
        var nll = Ops.Scale(Ops.Sum(SequenceLogProbs.Rows(sums, 0, n)), -1f / chosenTokens);
        var result = Orpo.Loss(SequenceLogProbs.Rows(average, 0, n), SequenceLogProbs.Rows(average, n, n), nll, options);
        return new BatchLoss(result.Loss, result.Metrics, counts.Sum());
    }
}

/// <summary>SimPO: length-normalised, reference-free preference loss with a target margin; see <see cref="SimPo"/>.</summary>
public sealed class SimPoTrainer(TrainingArguments args, TrainableModel model, IReadOnlyList<PreferenceExample> pairs, int padId, SimPoOptions options, int skippedRows = 0)
    : PreferenceTrainerBase(args, model, pairs, padId, skippedRows)
{
    protected override BatchLoss Loss(PreferenceBatch batch, Tensor sums, int[] counts)
    {
        int n = batch.Pairs;
        var average = SequenceLogProbs.Average(sums, counts);
        var result = SimPo.Loss(SequenceLogProbs.Rows(average, 0, n), SequenceLogProbs.Rows(average, n, n), options);
        return new BatchLoss(result.Loss, result.Metrics, counts.Sum());
    }
}

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

/// <summary>Reward model: Bradley–Terry on the scores of chosen and rejected rows (last real token); see <see cref="RewardModel"/>.</summary>
public sealed class RewardModelTrainer : Trainer
{
    private readonly IReadOnlyList<PreferenceExample> _pairs;
    private readonly RewardModelOptions _options;
    private readonly int _padId;
    private readonly ValueHeadModel _model;

    public RewardModelTrainer(TrainingArguments args, RewardModelTrainable model, IReadOnlyList<PreferenceExample> pairs, int padId, RewardModelOptions options, int skippedRows = 0)
        : base(args, model)
    {
        _pairs = pairs; _options = options; _padId = padId; _model = model.Model; SkippedRows = skippedRows;
    }

    protected override int ExampleCount => _pairs.Count;

    protected override BatchLoss ComputeLoss(int[] examples)
    {
        var batch = Collator.Preference(examples.Select(i => _pairs[i]).ToList(), _padId);
        var seq = batch.Sequences;
        var scores = _model.SequenceScores(seq.InputIds, seq.B, seq.T, Tensor.FromArray(seq.AttentionMask, seq.B, seq.T), seq.PositionIds);
        int n = batch.Pairs;
        var result = RewardModel.Loss(Ops.Narrow(scores, 0, 0, n), Ops.Narrow(scores, 0, n, n), _options);
        return new BatchLoss(result.Loss, result.Metrics, seq.AttentionMask.Sum(x => (long)x));
    }

    /// <summary>Pairwise accuracy (chosen scored above rejected) on held-out pairs.</summary>
    public double Accuracy(IReadOnlyList<PreferenceExample> evalPairs)
    {
        using var noGrad = Autograd.NoGrad();
        int correct = 0;
        for (int i = 0; i < evalPairs.Count; i += Args.PerDeviceTrainBatchSize)
        {
            using var scope = new TensorScope();
            var chunk = evalPairs.Skip(i).Take(Args.PerDeviceTrainBatchSize).ToList();
            var batch = Collator.Preference(chunk, _padId);
            var seq = batch.Sequences;
            var s = _model.SequenceScores(seq.InputIds, seq.B, seq.T, Tensor.FromArray(seq.AttentionMask, seq.B, seq.T), seq.PositionIds).ToArray();
            for (int k = 0; k < batch.Pairs; k++) if (s[k] > s[batch.Pairs + k]) correct++;
        }
        return evalPairs.Count == 0 ? double.NaN : (double)correct / evalPairs.Count;
    }
}
