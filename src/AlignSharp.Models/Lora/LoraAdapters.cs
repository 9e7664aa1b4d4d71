using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;

namespace AlignSharp.Models.Lora;

/// <summary>
/// LoRA adapters on a model's linear layers: y = x·Wᵀ + b + s·(drop(x)·Aᵀ)·Bᵀ with A [r, in], B [out, r] and
/// s = alpha/r (alpha/√r with rsLoRA). A starts Kaiming-uniform (bound 1/√in, as PEFT's kaiming_uniform_(a=√5)), B at zero, so a
/// fresh adapter leaves the model unchanged. Only A and B train; the base stays frozen.
/// </summary>
public sealed class LoraAdapters : IDisposable
{
    public LoraConfig Config { get; }
    private readonly Dictionary<string, (Tensor A, Tensor B)> _modules;
    private readonly Rng _dropoutRng;

    /// <summary>The dropout generator, whose state checkpoints save so a resumed run drops the same units.</summary>
    public Rng DropoutRng => _dropoutRng;

    /// <summary>Whether dropout is applied (training) or not (evaluation, generation).</summary>
    public bool Training { get; set; } = true;

    public LoraAdapters(LoraConfig config, Dictionary<string, (Tensor A, Tensor B)> modules, ulong seed = 0)
    {
        Config = config;
        _modules = modules;
        _dropoutRng = new Rng(seed ^ 0x5EED);
    }

    /// <summary>Adapted modules by name, with their A and B.</summary>
    public IReadOnlyDictionary<string, (Tensor A, Tensor B)> Modules => _modules;

    public IEnumerable<Tensor> Parameters => _modules.Values.SelectMany(m => new[] { m.A, m.B });

    /// <summary>Σ over modules of r·in + out·r: the weights an adapter trains (and its file holds).</summary>
    public long ParameterCount => _modules.Values.Sum(m => (long)m.A.Length + m.B.Length);

    /// <summary>The linear modules of a model: every 2-D weight except embeddings, by module name (weight name less ".weight").</summary>
    public static IEnumerable<(string Module, int Out, int In)> LinearModules(TransformerModel model) =>
        model.Parameters
            .Where(p => p.Key.EndsWith(".weight") && p.Value.Rank == 2 && !p.Key.Contains("embed_tokens") && !p.Key.Contains(".wte.") && !p.Key.Contains(".wpe."))
            .Select(p => (p.Key[..^".weight".Length], p.Value.Dim(0), p.Value.Dim(1)));

    /// <summary>Fresh adapters for every targeted module of <paramref name="model"/>; fails if none matches.</summary>
    public static LoraAdapters Create(TransformerModel model, LoraConfig config, ulong seed = 0)
    {
        if (config.Rank <= 0) throw new ModelFormatException($"LoRA r (lora_r in a recipe) must be positive (got {config.Rank})");
        var rng = new Rng(seed);
        var modules = new Dictionary<string, (Tensor, Tensor)>();
        foreach (var (module, fout, fin) in LinearModules(model))
        {
            if (!config.Targets(module)) continue;
            float bound = 1f / MathF.Sqrt(fin);
            modules[module] = (Tensor.Parameter(Tensor.Uniform(rng, -bound, bound, config.Rank, fin)), Tensor.Parameter(Tensor.Zeros(fout, config.Rank)));
        }
        if (modules.Count == 0)
            throw new ModelFormatException($"LoRA target_modules (lora_target_modules in a recipe) matched no linear layer (targets: {string.Join(", ", config.TargetModules ?? [config.TargetRegex ?? "default"])}; modules look like '{LinearModules(model).First().Module}')");
        return new LoraAdapters(config, modules, seed);
    }

    /// <summary>y + s·(drop(x)·Aᵀ)·Bᵀ when <paramref name="module"/> is adapted, else null.</summary>
    public Tensor? Apply(string module, Tensor x, Tensor y)
    {
        if (!_modules.TryGetValue(module, out var m)) return null;
        var input = Training && Config.Dropout > 0 && Autograd.IsEnabled ? Ops.Dropout(x, Config.Dropout, _dropoutRng) : x;
        return y + Ops.Linear(Ops.Linear(input, m.A), m.B) * Config.Scale;
    }

    /// <summary>
    /// Folds every adapter into its base weight, W' = W + s·(B·A), and detaches the adapters from the model: PEFT's
    /// merge (0.18, tuners/lora/layer.py Linear.get_delta_weight: transpose(B @ A, fan_in_fan_out) * scaling). The
    /// model keeps GPT-2's Conv1D weights as [out, in], so fan_in_fan_out's transpose happens when they are saved.
    /// Done in float32 and rounded once when saved, as PEFT's merge_and_unload on float32 adapter weights.
    /// </summary>
    public void MergeInto(TransformerModel model)
    {
        using var _ = Autograd.NoGrad();
        foreach (var (module, (a, b)) in _modules)
        {
            var w = model.Parameters[module + ".weight"];
            using var scope = new TensorScope();
            var delta = Ops.MatMul(b, a) * Config.Scale;
            System.Numerics.Tensors.TensorPrimitives.Add(w.Span, delta.Span, w.Span);
        }
        if (ReferenceEquals(model.Adapters, this)) model.Adapters = null;
    }

    public void Dispose()
    {
        foreach (var (a, b) in _modules.Values) { a.Dispose(); b.Dispose(); }
    }
}
