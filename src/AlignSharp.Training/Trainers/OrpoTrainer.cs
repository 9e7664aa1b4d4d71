// ORPO trainer — Hong et al. 2024, "ORPO: Monolithic Preference Optimization without Reference Model".
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;

namespace AlignSharp.Training.Trainers;

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
