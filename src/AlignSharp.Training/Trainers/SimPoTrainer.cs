// SimPO trainer — Meng et al. 2024, "SimPO: Simple Preference Optimization with a Reference-Free Reward".
// Follows TRL's CPOTrainer with loss_type "simpo" (v0.28 and current trl.experimental.cpo): see SimPo.Loss.
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;

namespace AlignSharp.Training.Trainers;

/// <summary>SimPO: length-normalised, reference-free preference loss with a target margin; see <see cref="SimPo"/>.</summary>
public sealed class SimPoTrainer(TrainingArguments args, TrainableModel model, IReadOnlyList<PreferenceExample> pairs, int padId, SimPoOptions options, int skippedRows = 0)
    : PreferenceTrainerBase(args, model, pairs, padId, skippedRows)
{
    protected override BatchLoss Loss(PreferenceBatch batch, Tensor logits)
    {
        int n = batch.Pairs;
        var (sums, counts) = SequenceLogProbs.FromLogits(logits, batch.Sequences);
        var result = SimPo.Loss(SequenceLogProbs.Rows(sums, 0, n), SequenceLogProbs.Rows(sums, n, n), counts.AsSpan(0, n), counts.AsSpan(n, n), options);
        return new BatchLoss(result.Loss, result.Metrics, counts.Sum());
    }
}
