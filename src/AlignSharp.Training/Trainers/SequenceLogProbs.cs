using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Data;

namespace AlignSharp.Training.Trainers;

/// <summary>
/// Per-sequence log-probabilities of the labelled tokens of a batch under a causal LM: logits at position t score
/// the label at t + 1 (the shift every causal-LM loss makes); tokens labelled −100 (prompt, padding) count for nothing.
/// </summary>
public static class SequenceLogProbs
{
    /// <summary>Σₜ log π(label_{t+1} | ids_≤t) per row: [B], with the number of scored tokens per row.</summary>
    /// <param name="withAdapters">false: score with the base model, ignoring its LoRA adapters for this call only (a LoRA run's reference).</param>
    public static (Tensor Sums, int[] Counts) Compute(TransformerModel model, Batch batch, bool withAdapters = true) =>
        FromLogits(Logits(model, batch, withAdapters), batch);

    /// <summary>The model's logits [B, T, V] for <paramref name="batch"/> (attention mask and position ids applied).</summary>
    /// <param name="withAdapters">false: the base model alone for this call (see <see cref="TransformerModel.Forward"/>).</param>
    public static Tensor Logits(TransformerModel model, Batch batch, bool withAdapters = true) =>
        model.Forward(batch.InputIds, batch.B, batch.T, Tensor.FromArray(batch.AttentionMask, batch.B, batch.T), batch.PositionIds, withAdapters: withAdapters);

    /// <summary>Σₜ log π(label_{t+1}) per row from logits [B, T, V] of <paramref name="batch"/>: [B], with the scored-token counts.</summary>
    public static (Tensor Sums, int[] Counts) FromLogits(Tensor logits, Batch batch)
    {
        var targets = ShiftedTargets(batch);
        var perToken = Ops.TokenLogProbs(logits, targets).Reshape(batch.B, batch.T); // 0 where ignored
        var counts = new int[batch.B];
        for (int b = 0; b < batch.B; b++)
            for (int t = 0; t < batch.T; t++) if (targets[b * batch.T + t] != Ops.IgnoreIndex) counts[b]++;
        return (Ops.SumLastAxis(perToken), counts);
    }

    /// <summary>targets[b, t] = labels[b, t + 1]; the last position of each row predicts nothing.</summary>
    public static int[] ShiftedTargets(Batch batch)
    {
        var targets = new int[batch.B * batch.T];
        for (int b = 0; b < batch.B; b++)
            for (int t = 0; t < batch.T; t++)
                targets[b * batch.T + t] = t + 1 < batch.T ? batch.Labels[b * batch.T + t + 1] : Ops.IgnoreIndex;
        return targets;
    }

    /// <summary>Per-row averages Σ/n as a tensor (SimPO, ORPO, IPO).</summary>
    public static Tensor Average(Tensor sums, int[] counts) =>
        Ops.Div(sums, Tensor.FromArray(counts.Select(c => (float)Math.Max(1, c)).ToArray(), counts.Length));

    /// <summary>Rows [start, start + count) of a [2B] tensor (chosen rows first, then rejected, as preference batches lay them out).</summary>
    public static Tensor Rows(Tensor x, int start, int count) => Ops.Narrow(x, 0, start, count);
}
