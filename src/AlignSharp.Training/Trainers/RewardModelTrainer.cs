// Reward model trainer — Bradley–Terry pairwise loss as in Ouyang et al. 2022, "Training language models to follow instructions with human feedback".
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;

namespace AlignSharp.Training.Trainers;

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
