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
