using AlignSharp.Models.Lora;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;

namespace AlignSharp.Training.Core;

/// <summary>
/// What a trainer updates and saves: a causal LM (all weights, or LoRA adapters on a frozen base) or a reward
/// model (body + scalar head). Checkpoints hold exactly the trainable weights, in the format users load
/// (Hugging Face folder or PEFT adapter), so any checkpoint is usable as it is.
/// </summary>
public abstract class TrainableModel : IDisposable
{
    public abstract TransformerModel Transformer { get; }

    /// <summary>Parameters the optimizer updates, by stable name.</summary>
    public abstract IReadOnlyList<(string Name, Tensor Tensor)> Trainable { get; }

    /// <summary>Writes the trainable weights (and what is needed to use them) to <paramref name="folder"/>.</summary>
    public abstract void Save(string folder);

    /// <summary>Overwrites the trainable weights with those saved in <paramref name="folder"/>.</summary>
    public abstract void Restore(string folder);

    /// <summary>Random generators the model draws from while training (e.g. LoRA dropout), by name, for checkpoints.</summary>
    public virtual IReadOnlyDictionary<string, Rng> Generators => new Dictionary<string, Rng>();

    public virtual void Dispose() => Transformer.Dispose();

    protected static void CopyInto(IReadOnlyList<(string Name, Tensor Tensor)> targets, IReadOnlyDictionary<string, Tensor> sources, string folder)
    {
        foreach (var (name, t) in targets)
        {
            if (!sources.TryGetValue(name, out var s)) throw new TrainingException($"{folder}: checkpoint has no '{name}'");
            if (!s.Shape.SequenceEqual(t.Shape)) throw new TrainingException($"{folder}: '{name}' has shape [{string.Join(", ", s.Shape.ToArray())}], expected [{string.Join(", ", t.Shape.ToArray())}]");
            s.Span.CopyTo(t.Span);
        }
    }
}

/// <summary>A causal LM trained in full, saved as a Hugging Face folder.</summary>
public sealed class FullCausalLm(TransformerModel model) : TrainableModel
{
    public override TransformerModel Transformer => model;
    public override IReadOnlyList<(string Name, Tensor Tensor)> Trainable { get; } = model.Parameters.Select(p => (p.Key, p.Value)).ToList();
    public override void Save(string folder) => HuggingFaceFolder.Save(model, folder);
    public override void Restore(string folder)
    {
        if (PeftAdapterConfig.IsAdapterFolder(folder) && !File.Exists(Path.Combine(folder, "config.json")))
            throw new TrainingException($"{folder}: this checkpoint holds a LoRA adapter, but this run trains all weights; resume with use_peft: true (as the run started) or use a new output_dir");
        using var saved = HuggingFaceFolder.Load(folder);
        CopyInto(Trainable, saved.Parameters, folder);
    }
}

/// <summary>LoRA adapters on a frozen causal LM, saved in PEFT's format.</summary>
public sealed class LoraCausalLm : TrainableModel
{
    private readonly TransformerModel _model;
    private readonly string? _baseName;
    public LoraAdapters Adapters { get; }

    /// <summary>Fresh adapters (B = 0, so training starts from the base's outputs).</summary>
    public LoraCausalLm(TransformerModel model, LoraConfig config, ulong seed, string? baseName = null)
        : this(model, LoraAdapters.Create(model, config, seed), baseName) { }

    /// <summary>
    /// Continues training <paramref name="adapters"/> (e.g. a saved adapter from <see cref="PeftFormat.Load"/>), which
    /// this model then owns; its options (r, alpha, dropout, targets) are the adapter's own.
    /// </summary>
    /// <remarks>
    /// Freezes <paramref name="model"/>'s weights and attaches the adapters to it (<see cref="TransformerModel.Adapters"/>)
    /// once, here, for this object's life; nothing detaches them afterwards. A pass of the base alone (the reference of
    /// DPO/KTO) asks for it per call with <c>withAdapters: false</c>.
    /// </remarks>
    public LoraCausalLm(TransformerModel model, LoraAdapters adapters, string? baseName = null)
    {
        _model = model;
        _baseName = baseName;
        model.SetTrainable(false);
        foreach (var p in adapters.Parameters) p.RequiresGrad = true;
        Adapters = adapters;
        model.Adapters = Adapters;
        Trainable = Adapters.Modules.OrderBy(m => m.Key, StringComparer.Ordinal)
            .SelectMany(m => new[] { (m.Key + ".lora_A.weight", m.Value.A), (m.Key + ".lora_B.weight", m.Value.B) }).ToList();
    }

    public override TransformerModel Transformer => _model;
    public override IReadOnlyList<(string Name, Tensor Tensor)> Trainable { get; }
    public override IReadOnlyDictionary<string, Rng> Generators => new Dictionary<string, Rng> { ["lora_dropout"] = Adapters.DropoutRng };
    public override void Save(string folder) => PeftFormat.Save(Adapters, folder, _baseName);
    public override void Restore(string folder)
    {
        if (!PeftAdapterConfig.IsAdapterFolder(folder) && File.Exists(Path.Combine(folder, "config.json")))
            throw new TrainingException($"{folder}: this checkpoint holds full model weights, but this run trains LoRA adapters; resume with use_peft: false (as the run started) or use a new output_dir");
        using var saved = PeftFormat.Load(folder, _model);
        var sources = saved.Modules.SelectMany(m => new[] { (m.Key + ".lora_A.weight", m.Value.A), (m.Key + ".lora_B.weight", m.Value.B) }).ToDictionary(x => x.Item1, x => x.Item2);
        CopyInto(Trainable, sources, folder);
    }

    public override void Dispose()
    {
        Adapters.Dispose();
        base.Dispose();
    }
}

/// <summary>A reward model (body + score head) trained in full, saved as *ForSequenceClassification.</summary>
public sealed class RewardModelTrainable(ValueHeadModel model) : TrainableModel
{
    public ValueHeadModel Model { get; } = model;
    public override TransformerModel Transformer => Model.Body;
    public override IReadOnlyList<(string Name, Tensor Tensor)> Trainable { get; } = model.SavedParameters.ToList();
    public override void Save(string folder) => Model.Save(folder);
    public override void Restore(string folder)
    {
        using var saved = ValueHeadModel.Load(folder);
        CopyInto(Trainable, saved.SavedParameters.ToDictionary(p => p.Name, p => p.Tensor), folder);
    }
    public override void Dispose() => Model.Dispose();
}
