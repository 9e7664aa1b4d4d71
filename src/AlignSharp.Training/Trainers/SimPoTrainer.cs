// SimPO trainer — Meng et al. 2024, "SimPO: Simple Preference Optimization with a Reference-Free Reward".
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;

namespace AlignSharp.Training.Trainers;

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
