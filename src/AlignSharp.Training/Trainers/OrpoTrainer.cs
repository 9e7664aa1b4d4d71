// ORPO trainer — Hong et al. 2024, "ORPO: Monolithic Preference Optimization without Reference Model".
// Follows TRL's ORPOTrainer (v0.9 through current): see Orpo.Loss.
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;

namespace AlignSharp.Training.Trainers;

/// <summary>ORPO: SFT on chosen plus the odds-ratio penalty, no reference model; see <see cref="Orpo"/>.</summary>
public sealed class OrpoTrainer(TrainingArguments args, TrainableModel model, IReadOnlyList<PreferenceExample> pairs, int padId, OrpoOptions options, int skippedRows = 0)
    : PreferenceTrainerBase(args, model, pairs, padId, skippedRows)
{
    protected override BatchLoss Loss(PreferenceBatch batch, Tensor logits)
    {
        var result = Orpo.Loss(logits, batch, options);
        return new BatchLoss(result.Loss, result.Metrics, batch.CompletionLengths.Sum());
    }
}
