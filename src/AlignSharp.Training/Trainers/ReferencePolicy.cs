using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;

namespace AlignSharp.Training.Trainers;

/// <summary>
/// The reference policy of DPO and KTO: the model a run starts from, held in memory (it reads no file). With LoRA it
/// is the policy's own frozen base, its adapters ignored for each reference pass (no copy, and the policy's
/// <see cref="TransformerModel.Adapters"/> is never touched); with full fine-tuning, a frozen snapshot of the starting
/// weights (one copy, as loading the folder again would cost); or a model the caller already holds (a pipeline's
/// previous round), used as it is and left for the caller to dispose. Log-probs are computed under no-grad, per batch
/// or once up front (<c>precompute_ref_log_probs</c>, see <see cref="InPlace"/>).
/// </summary>
public sealed class ReferencePolicy : IDisposable
{
    private readonly TransformerModel _model;
    private readonly bool _withAdapters;
    private readonly bool _owned;

    private ReferencePolicy(TransformerModel model, bool withAdapters, bool owned)
    {
        _model = model; _withAdapters = withAdapters; _owned = owned;
    }

    /// <summary>
    /// The reference for training <paramref name="policy"/> from its current (starting) weights, valid for the whole
    /// run: <paramref name="reference"/> when given; else the LoRA base, or a snapshot of every weight when all train.
    /// </summary>
    /// <exception cref="TrainingException">The given reference is the policy itself, or scores a different vocabulary.</exception>
    public static ReferencePolicy For(TrainableModel policy, TransformerModel? reference = null)
    {
        if (reference is not null) return Given(policy, reference);
        return policy is LoraCausalLm
            ? new ReferencePolicy(policy.Transformer, withAdapters: false, owned: false)
            : new ReferencePolicy(policy.Transformer.Snapshot(), withAdapters: false, owned: true);
    }

    /// <summary>
    /// The same reference read from the policy's current weights in place, without a snapshot: valid only until the
    /// policy's first update, for log-probs computed once before training (precompute_ref_log_probs costs no copy).
    /// </summary>
    public static ReferencePolicy InPlace(TrainableModel policy, TransformerModel? reference = null) =>
        reference is not null ? Given(policy, reference) : new ReferencePolicy(policy.Transformer, withAdapters: false, owned: false);

    private static ReferencePolicy Given(TrainableModel policy, TransformerModel reference)
    {
        if (ReferenceEquals(reference, policy.Transformer))
            throw new TrainingException("the reference model is the policy being trained; pass a separate model, or none to use the policy's starting weights");
        if (reference.Config.VocabSize != policy.Transformer.Config.VocabSize)
            throw new TrainingException($"the reference model's vocab_size {reference.Config.VocabSize} differs from the policy's {policy.Transformer.Config.VocabSize}; both must score the same tokens");
        return new ReferencePolicy(reference, withAdapters: true, owned: false);
    }

    /// <summary>Σ log π_ref of the labelled tokens per row of <paramref name="batch"/> (constants).</summary>
    public float[] LogProbs(Batch batch)
    {
        using var noGrad = Autograd.NoGrad();
        using var scope = new TensorScope();
        return SequenceLogProbs.Compute(_model, batch, _withAdapters).Sums.ToArray();
    }

    /// <summary>
    /// log π_ref of every completion token of <paramref name="rows"/> at <paramref name="temperature"/> (constants): one
    /// array per row, as long as its completion (the online methods' reference and KL terms).
    /// </summary>
    public float[][] PerTokenLogProbs(IReadOnlyList<Online.CompletionRow> rows, float temperature = 1f)
    {
        // In chunks: one pass over a whole generation batch would hold its logits ([Σ completion tokens, V]) at once.
        const int chunk = 16;
        using var noGrad = Autograd.NoGrad();
        var result = new float[rows.Count][];
        for (int start = 0; start < rows.Count; start += chunk)
        {
            using var scope = new TensorScope();
            var part = rows.Skip(start).Take(chunk).ToList();
            var forward = Online.CompletionLogProbs.Compute(_model, part, temperature, _withAdapters, samplingOrder: false);
            var values = forward.LogProbs.ToArray();
            for (int b = 0; b < part.Count; b++) result[start + b] = values.AsSpan(b * forward.T, part[b].CompletionIds.Length).ToArray();
        }
        return result;
    }

    /// <summary>Frees the snapshot, if this reference made one; a model passed in stays the caller's.</summary>
    public void Dispose()
    {
        if (_owned) _model.Dispose();
    }
}
