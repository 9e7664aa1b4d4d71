// Reward model trainer — Bradley–Terry pairwise loss as in Ouyang et al. 2022, "Training language models to follow instructions with human feedback".
// Follows TRL's RewardTrainer (v0.28 and current): the model's pad_token_id is set to the padding id, each row is scored
// where transformers' *ForSequenceClassification scores it (the rightmost token that is not the pad id, so with pad ==
// EOS a standard row, which ends in EOS, is scored at the token before it), and the dataset's "margin" column is
// subtracted inside the sigmoid.
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;

namespace AlignSharp.Training.Trainers;

/// <summary>Reward model: Bradley–Terry on the scores of chosen and rejected rows; see <see cref="RewardModel"/> and <see cref="ValueHeadModel.ScoreIndex"/>.</summary>
public sealed class RewardModelTrainer : Trainer
{
    private readonly IReadOnlyList<PreferenceExample> _pairs;
    private readonly RewardModelOptions _options;
    private readonly int _padId;
    private readonly ValueHeadModel _model;

    public RewardModelTrainer(TrainingArguments args, RewardModelTrainable model, IReadOnlyList<PreferenceExample> pairs, int padId, RewardModelOptions options, int skippedRows = 0)
        : base(args, model)
    {
        RequireMarginsOnAllOrNone(pairs);
        _pairs = pairs; _options = options; _padId = padId; _model = model.Model; SkippedRows = skippedRows;
        _model.PadTokenId = padId;   // as TRL sets model.config.pad_token_id: training, Accuracy and a saved model score alike
    }

    protected override int ExampleCount => _pairs.Count;

    protected override BatchLoss ComputeLoss(int[] examples)
    {
        var pairs = examples.Select(i => _pairs[i]).ToList();
        var result = BatchLoss(_model, pairs, _padId, _options, out long tokens);
        return new BatchLoss(result.Loss, result.Metrics, tokens);
    }

    /// <summary>The loss of one batch of pairs: scores of the collated rows (chosen first), with the pairs' margins if they have them.</summary>
    internal static LossResult BatchLoss(ValueHeadModel model, IReadOnlyList<PreferenceExample> pairs, int padId, RewardModelOptions options) =>
        BatchLoss(model, pairs, padId, options, out _);

    private static LossResult BatchLoss(ValueHeadModel model, IReadOnlyList<PreferenceExample> pairs, int padId, RewardModelOptions options, out long tokens)
    {
        RequireMarginsOnAllOrNone(pairs);
        model.PadTokenId = padId;
        var batch = Collator.Preference(pairs, padId);
        var scores = Scores(model, batch);
        int n = batch.Pairs;
        float[]? margins = pairs[0].Margin is null ? null : pairs.Select(p => p.Margin!.Value).ToArray();
        tokens = batch.Sequences.AttentionMask.Sum(x => (long)x);
        return RewardModel.Loss(Ops.Narrow(scores, 0, 0, n), Ops.Narrow(scores, 0, n, n), options, margins);
    }

    private static Tensor Scores(ValueHeadModel model, PreferenceBatch batch)
    {
        var seq = batch.Sequences;
        return model.SequenceScores(seq.InputIds, seq.B, seq.T, Tensor.FromArray(seq.AttentionMask, seq.B, seq.T), seq.PositionIds);
    }

    /// <summary>TRL reads "margin" as a dataset column, so every row has one or none does.</summary>
    private static void RequireMarginsOnAllOrNone(IReadOnlyList<PreferenceExample> pairs)
    {
        int withMargin = pairs.Count(p => p.Margin is not null);
        if (withMargin != 0 && withMargin != pairs.Count)
            throw new TrainingException($"reward model: \"margin\" is set on {withMargin} of {pairs.Count} rows; give every row a margin, or none");
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
            var s = Scores(_model, batch).ToArray();
            for (int k = 0; k < batch.Pairs; k++) if (s[k] > s[batch.Pairs + k]) correct++;
        }
        return evalPairs.Count == 0 ? double.NaN : (double)correct / evalPairs.Count;
    }
}
