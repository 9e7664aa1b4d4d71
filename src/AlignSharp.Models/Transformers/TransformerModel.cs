using AlignSharp.Tensors;

namespace AlignSharp.Models.Transformers;

/// <summary>
/// One decoder-only transformer for the Llama, Qwen2 and GPT-2 families (the differences are
/// <see cref="ModelConfig"/> data): pre-norm blocks of attention and MLP with residual connections.
/// Llama/Qwen2: RMSNorm, rotary positions (rotate-half), grouped-query attention, SwiGLU MLP.
/// GPT-2: LayerNorm, learned positions, fused q/k/v (c_attn), tanh-GELU MLP.
/// Parameters are kept under their Hugging Face names, all linear weights in [out, in] layout.
/// </summary>
public sealed class TransformerModel : IDisposable
{
    public ModelConfig Config { get; }
    private readonly Dictionary<string, Tensor> _parameters;
    private readonly RopeTable? _rope;
    // Per layer, q/k/v and gate/up weights laid out as one matrix each (their parameters are row views of it),
    // so inference reads each group in one matrix-vector product.
    private readonly List<Tensor> _fusedBuffers = new();
    private readonly Dictionary<string, (Tensor Weight, Tensor? Bias, int[] Sizes)> _fused = new();

    /// <summary>Parameters by Hugging Face name (GPT-2 Conv1D weights held transposed, as [out, in]).</summary>
    public IReadOnlyDictionary<string, Tensor> Parameters => _parameters;

    /// <summary>
    /// LoRA adapters applied on top of the (usually frozen) linear weights, or null. A forward pass reads this once at
    /// its start; to run the base model without them for one call, pass <c>withAdapters: false</c> rather than setting
    /// this to null and back (which other readers of the model would see).
    /// </summary>
    public Lora.LoraAdapters? Adapters { get; set; }

    /// <summary>A model over copies of the given parameters (Hugging Face names, [out, in] linear weights).</summary>
    public TransformerModel(ModelConfig config, IReadOnlyDictionary<string, Tensor> parameters) : this(config.Validate())
    {
        foreach (var (name, shape) in WeightLayout.Weights(config))
        {
            if (!parameters.TryGetValue(name, out var t))
                throw new ModelFormatException($"missing tensor '{name}' (expected shape [{string.Join(", ", shape)}])");
            var target = _parameters[name];
            if (!t.Shape.SequenceEqual(target.Shape))
                throw new ModelFormatException($"tensor '{name}' has shape [{string.Join(", ", t.Shape.ToArray())}] but the config needs [{string.Join(", ", target.Shape.ToArray())}]");
            t.Contiguous().Span.CopyTo(target.Span);
        }
    }

    /// <summary>
    /// Allocates every parameter, uninitialised, in its final layout: per layer the q/k/v and the gate/up weights
    /// (and biases) are row views of one buffer each, so inference reads a group in one matrix-vector product and
    /// loaders fill the views in place (one float32 copy of the weights, no re-layout afterwards).
    /// </summary>
    private TransformerModel(ModelConfig config)
    {
        Config = config;
        _parameters = new Dictionary<string, Tensor>();
        var shapes = WeightLayout.Weights(config).ToDictionary(w => w.Name, w => WeightLayout.IsConv1D(config, w.Name) ? new[] { w.Shape[1], w.Shape[0] } : w.Shape);
        if (!config.LearnedPositions)
        {
            _rope = new RopeTable(config.HeadDim, config.MaxPositions, config.RopeTheta, config.RopeInverseFrequencies());
            for (int l = 0; l < config.NumLayers; l++)
            {
                string p = $"model.layers.{l}.";
                Fuse(shapes, p + "qkv", p + "self_attn.q_proj", p + "self_attn.k_proj", p + "self_attn.v_proj");
                Fuse(shapes, p + "gate_up", p + "mlp.gate_proj", p + "mlp.up_proj");
            }
        }
        foreach (var (name, shape) in shapes)
            if (!_parameters.ContainsKey(name)) _parameters[name] = Tensor.Parameter(shape);
    }

    /// <summary>Allocates the weights (and biases, when every module has one) of <paramref name="modules"/> as row views of one buffer.</summary>
    private void Fuse(Dictionary<string, int[]> shapes, string key, params string[] modules)
    {
        Tensor Allocate(string suffix)
        {
            var parts = modules.Select(m => shapes[m + suffix]).ToArray();
            var shape = (int[])parts[0].Clone();
            shape[0] = parts.Sum(x => x[0]);
            var fused = Tensor.Parameter(shape);
            fused.RequiresGrad = false;
            for (int i = 0, at = 0; i < parts.Length; at += parts[i][0], i++)
                _parameters[modules[i] + suffix] = fused.LeafRows(at, parts[i][0]);
            foreach (var row in modules) _parameters[row + suffix].RequiresGrad = true;
            _fusedBuffers.Add(fused);
            return fused;
        }
        int withBias = modules.Count(m => shapes.ContainsKey(m + ".bias"));
        if (withBias != 0 && withBias != modules.Length) return; // mixed biases: keep them separate, no fused path
        var weight = Allocate(".weight");
        var bias = withBias == modules.Length ? Allocate(".bias") : null;
        _fused[key] = (weight, bias, modules.Select(m => shapes[m + ".weight"][0]).ToArray());
    }

    /// <summary>A randomly initialised model as Hugging Face initialises one: N(0, 0.02) weights (GPT-2 residual projections scaled by 1/√(2L)), zero biases, unit norms.</summary>
    public static TransformerModel Create(ModelConfig config, ulong seed = 0)
    {
        var model = new TransformerModel(config.Validate());
        var rng = new Rng(seed);
        foreach (var (name, _) in WeightLayout.Weights(config))
        {
            var p = model._parameters[name].Span;
            if (name.EndsWith(".bias")) p.Clear();
            else if (model._parameters[name].Rank == 1) p.Fill(1f);
            else
            {
                float std = 0.02f;
                if (config.Architecture == Architecture.Gpt2 && name.EndsWith("c_proj.weight")) std /= MathF.Sqrt(2f * config.NumLayers);
                rng.FillNormal(p, 0f, std);
            }
        }
        return model;
    }

    /// <summary>
    /// A frozen copy of this model's base weights (config and every parameter; <see cref="Adapters"/> are not copied):
    /// the starting point of a run kept in memory, e.g. the reference policy of DPO/KTO when all weights train. Costs
    /// one float32 copy of the weights, the same as loading the folder again, and reads no file.
    /// </summary>
    public TransformerModel Snapshot()
    {
        var copy = new TransformerModel(Config);
        foreach (var (name, p) in _parameters) p.Span.CopyTo(copy._parameters[name].Span);
        copy.SetTrainable(false);
        return copy;
    }

    /// <summary>An uninitialised model whose parameters a loader fills in place.</summary>
    internal static TransformerModel Allocate(ModelConfig config) => new(config.Validate());

    /// <summary>
    /// The outputs of a fused module group: one product with the fused matrix under NoGrad without adapters,
    /// otherwise one product per module (so gradients and LoRA updates reach each parameter).
    /// </summary>
    private Tensor[] Group(string key, Tensor x, Lora.LoraAdapters? adapters, params string[] modules)
    {
        if (Autograd.IsEnabled || adapters is not null || !_fused.TryGetValue(key, out var f))
            return modules.Select(m => Linear(m, x, adapters)).ToArray();
        var y = Ops.Linear(x, f.Weight, f.Bias);
        var outputs = new Tensor[modules.Length];
        for (int i = 0, at = 0; i < modules.Length; at += f.Sizes[i], i++) outputs[i] = Ops.Narrow(y, -1, at, f.Sizes[i]);
        return outputs;
    }

    public long ParameterCount => _parameters.Values.Sum(p => (long)p.Length);

    private Tensor P(string name) => _parameters[name];

    /// <summary>y = x·Wᵀ + b for the module (plus its LoRA update when an adapter targets it).</summary>
    private Tensor Linear(string module, Tensor x, Lora.LoraAdapters? adapters)
    {
        _parameters.TryGetValue(module + ".bias", out var bias);
        var y = Ops.Linear(x, P(module + ".weight"), bias);
        return adapters?.Apply(module, x, y) ?? y;
    }

    /// <summary>Logits [B, T, V] for token ids [B·T].</summary>
    /// <param name="attentionMask">[B, T] (1 = token, 0 = padding), for padded training batches; with a cache, the mask of the new positions.</param>
    /// <param name="positions">Position of each token [B·T]; default: cache length + t.</param>
    /// <param name="cache">KV cache to read and extend (inference, under <see cref="Autograd.NoGrad"/>).</param>
    /// <param name="withAdapters">false: the base model alone for this call, <see cref="Adapters"/> left attached and untouched (a LoRA run's reference policy).</param>
    public Tensor Forward(ReadOnlySpan<int> ids, int batch, int length, Tensor? attentionMask = null, int[]? positions = null, KvCache? cache = null, bool withAdapters = true) =>
        LmHead(Hidden(ids, batch, length, attentionMask, positions, cache, withAdapters), withAdapters);

    /// <summary>logits = hidden·W_lmᵀ (the embedding matrix when tied), plus the adapter's update of lm_head when it has one and <paramref name="withAdapters"/>.</summary>
    public Tensor LmHead(Tensor hidden, bool withAdapters = true)
    {
        if (!Config.HasLmHead) throw new InvalidOperationException("this model has no language-model head (a reward/value model body); use ValueHeadModel");
        string head = Config.TieWordEmbeddings ? (Config.Architecture == Architecture.Gpt2 ? "transformer.wte.weight" : "model.embed_tokens.weight") : "lm_head.weight";
        var logits = Ops.Linear(hidden, P(head));
        return (withAdapters ? Adapters : null)?.Apply("lm_head", hidden, logits) ?? logits;
    }

    /// <summary>The final hidden states [B, T, C] (after the last norm): the input of the LM head or a value head.</summary>
    /// <param name="withAdapters">false: the base model alone for this call (see <see cref="Forward"/>).</param>
    public Tensor Hidden(ReadOnlySpan<int> ids, int batch, int length, Tensor? attentionMask = null, int[]? positions = null, KvCache? cache = null, bool withAdapters = true)
    {
        if (ids.Length != batch * length) throw new ArgumentException($"forward: {ids.Length} ids do not fill a [{batch}, {length}] batch");
        if (cache is not null && (cache.Batch != batch || cache.Length + length > cache.Capacity))
            throw new ArgumentException($"forward: the KV cache holds batch {cache.Batch} with {cache.Capacity - cache.Length} free positions; got batch {batch} with {length} new tokens");
        if (attentionMask is not null && (attentionMask.Rank != 2 || attentionMask.Dim(0) != batch || attentionMask.Dim(1) != length))
            throw new ArgumentException($"forward: attention mask [{string.Join(", ", attentionMask.Shape.ToArray())}] must be [{batch}, {length}]");
        var adapters = withAdapters ? Adapters : null; // read once: one pass uses one set of weights throughout
        var c = Config;
        int offset = cache?.Length ?? 0;
        foreach (int id in ids)
            if ((uint)id >= (uint)c.VocabSize) throw new ArgumentOutOfRangeException(nameof(ids), $"forward: token id {id} is outside the vocabulary [0, {c.VocabSize})");
        if (positions is null && offset + length > c.MaxPositions)
            throw new ArgumentException($"forward: position {offset + length - 1} exceeds max_position_embeddings {c.MaxPositions}");

        Tensor? keyMask = null;
        if (cache is not null)
        {
            cache.MarkPositions(length, attentionMask?.ToArray());
            keyMask = cache.MaskFor(offset + length);
        }
        else keyMask = attentionMask;

        Tensor h = Embed(ids, batch, length, positions ?? (c.Architecture == Architecture.Gpt2 ? Enumerable.Range(0, batch * length).Select(i => offset + i % length).ToArray() : null));
        h = Blocks(h, batch, length, offset, positions, adapters, (l, q, k, v) =>
        {
            if (cache is null) return Ops.ScaledDotProductAttention(q, k, v, keyMask);
            Append(cache.Keys[l], k, offset, length);
            Append(cache.Values[l], v, offset, length);
            return Ops.CachedAttention(q, cache.Keys[l], cache.Values[l], offset + length, keyMask);
        });
        if (cache is not null) cache.Length = offset + length;
        return FinalNorm(h);
    }

    /// <summary>
    /// One decode step for B independent sequences, each with its own KV cache (batch 1, no padding): row b's token
    /// <paramref name="ids"/>[b] at position caches[b].Length. The embedding, norms, linears and MLP run once for all
    /// rows ([B, 1, C]: each weight is read once for the step); attention runs row by row against that row's cache.
    /// Under <see cref="Tensors.Kernels.Sgemm.RowInvariant"/> each row's hidden state is bitwise what the same step gives
    /// that sequence decoded alone (continuous batching). Returns [B, 1, C]; every cache grows by one position.
    /// </summary>
    public Tensor DecodeHidden(ReadOnlySpan<int> ids, IReadOnlyList<KvCache> caches, bool withAdapters = true)
    {
        int batch = caches.Count, length = 1;
        if (ids.Length != batch) throw new ArgumentException($"decode: {ids.Length} ids for {batch} caches (one new token per sequence)");
        if (Autograd.IsEnabled) throw new InvalidOperationException("decode: a KV-cached step runs under Autograd.NoGrad()");
        var c = Config;
        var positions = new int[batch];
        for (int b = 0; b < batch; b++)
        {
            var cache = caches[b];
            if (cache.Batch != 1 || cache.Length + 1 > cache.Capacity)
                throw new ArgumentException($"decode: cache {b} holds batch {cache.Batch} with {cache.Capacity - cache.Length} free positions; each sequence needs its own batch-1 cache with room for one more token");
            if ((uint)ids[b] >= (uint)c.VocabSize) throw new ArgumentOutOfRangeException(nameof(ids), $"decode: token id {ids[b]} is outside the vocabulary [0, {c.VocabSize})");
            positions[b] = cache.Length;
        }
        var adapters = withAdapters ? Adapters : null;
        var h = Embed(ids, batch, length, positions);
        var keyMasks = new Tensor?[batch];
        for (int b = 0; b < batch; b++)
        {
            caches[b].MarkPositions(1, null);
            keyMasks[b] = caches[b].MaskFor(positions[b] + 1);
        }
        h = Blocks(h, batch, length, 0, positions, adapters, (l, q, k, v) =>
        {
            if (batch == 1)
            {
                Append(caches[0].Keys[l], k, positions[0], 1);
                Append(caches[0].Values[l], v, positions[0], 1);
                return Ops.CachedAttention(q, caches[0].Keys[l], caches[0].Values[l], positions[0] + 1, keyMasks[0]);
            }
            var output = Tensor.Uninitialized(q.ShapeArray.ToArray());
            int rowQ = q.Dim(2) * q.Dim(3);
            for (int b = 0; b < batch; b++)
            {
                Append(caches[b].Keys[l], Ops.Narrow(k, 0, b, 1), positions[b], 1);
                Append(caches[b].Values[l], Ops.Narrow(v, 0, b, 1), positions[b], 1);
                var row = Ops.CachedAttention(Ops.Narrow(q, 0, b, 1), caches[b].Keys[l], caches[b].Values[l], positions[b] + 1, keyMasks[b]);
                row.Contiguous().Span.CopyTo(output.Span.Slice(b * rowQ, rowQ));
            }
            return output;
        });
        for (int b = 0; b < batch; b++) caches[b].Length = positions[b] + 1;
        return FinalNorm(h);
    }

    /// <summary>Token embeddings [B, T, C] (plus learned position embeddings for GPT-2, at <paramref name="positions"/>).</summary>
    private Tensor Embed(ReadOnlySpan<int> ids, int batch, int length, int[]? positions)
    {
        if (Config.Architecture != Architecture.Gpt2) return Ops.Embedding(P("model.embed_tokens.weight"), ids, batch, length);
        return Ops.Embedding(P("transformer.wte.weight"), ids, batch, length) + Ops.Embedding(P("transformer.wpe.weight"), positions!, batch, length);
    }

    /// <summary>The final norm of the hidden states (the input of the LM head).</summary>
    private Tensor FinalNorm(Tensor h) => Config.Architecture == Architecture.Gpt2
        ? Ops.LayerNorm(h, P("transformer.ln_f.weight"), P("transformer.ln_f.bias"), Config.NormEps)
        : Ops.RmsNorm(h, P("model.norm.weight"), Config.NormEps);

    /// <summary>Attention of one layer: new queries [B, T, H, D], keys and values [B, T, KVH, D] → [B, T, H, D].</summary>
    private delegate Tensor LayerAttention(int layer, Tensor q, Tensor k, Tensor v);

    /// <summary>
    /// Every decoder block over hidden states [B, T, C]: the one copy of the layer code, with the attention itself
    /// left to <paramref name="attend"/> (full attention, a shared KV cache, or per-sequence caches).
    /// </summary>
    private Tensor Blocks(Tensor h, int batch, int length, int offset, int[]? positions, Lora.LoraAdapters? adapters, LayerAttention attend)
    {
        var c = Config;
        int C = c.HiddenSize, H = c.NumHeads, KVH = c.NumKvHeads, D = c.HeadDim;
        bool gpt2 = c.Architecture == Architecture.Gpt2;
        for (int l = 0; l < c.NumLayers; l++)
        {
            string p = gpt2 ? $"transformer.h.{l}." : $"model.layers.{l}.";
            // Attention block.
            Tensor q, k, v;
            if (gpt2)
            {
                var x = Ops.LayerNorm(h, P(p + "ln_1.weight"), P(p + "ln_1.bias"), c.NormEps);
                var qkv = Linear(p + "attn.c_attn", x, adapters);
                q = Ops.Narrow(qkv, 2, 0, C).Reshape(batch, length, H, D);
                k = Ops.Narrow(qkv, 2, C, C).Reshape(batch, length, KVH, D);
                v = Ops.Narrow(qkv, 2, 2 * C, C).Reshape(batch, length, KVH, D);
            }
            else
            {
                var x = Ops.RmsNorm(h, P(p + "input_layernorm.weight"), c.NormEps);
                var qkv = Group(p + "qkv", x, adapters, p + "self_attn.q_proj", p + "self_attn.k_proj", p + "self_attn.v_proj");
                q = Ops.Rope(qkv[0].Reshape(batch, length, H, D), _rope!, offset, positions);
                k = Ops.Rope(qkv[1].Reshape(batch, length, KVH, D), _rope!, offset, positions);
                v = qkv[2].Reshape(batch, length, KVH, D);
            }
            var attention = attend(l, q, k, v).Reshape(batch, length, H * D);
            h = h + Linear(gpt2 ? p + "attn.c_proj" : p + "self_attn.o_proj", attention, adapters);

            // MLP block.
            if (gpt2)
            {
                var x = Ops.LayerNorm(h, P(p + "ln_2.weight"), P(p + "ln_2.bias"), c.NormEps);
                h = h + Linear(p + "mlp.c_proj", Ops.Gelu(Linear(p + "mlp.c_fc", x, adapters)), adapters);
            }
            else
            {
                var x = Ops.RmsNorm(h, P(p + "post_attention_layernorm.weight"), c.NormEps);
                var gateUp = Group(p + "gate_up", x, adapters, p + "mlp.gate_proj", p + "mlp.up_proj");
                h = h + Linear(p + "mlp.down_proj", Ops.SwiGlu(gateUp[0], gateUp[1]), adapters);
            }
        }
        return h;
    }

    /// <summary>Copies new keys or values [B, T, KVH, D] into the cache at positions [offset, offset + T).</summary>
    private static void Append(Tensor cache, Tensor values, int offset, int length)
    {
        values = values.Contiguous();
        int batch = values.Dim(0), row = values.Dim(2) * values.Dim(3), capacity = cache.Dim(1);
        var src = values.Span; var dst = cache.Span;
        for (int b = 0; b < batch; b++)
            src.Slice(b * length * row, length * row).CopyTo(dst.Slice((b * capacity + offset) * row, length * row));
    }

    /// <summary>Freezes (or unfreezes) every base weight.</summary>
    public void SetTrainable(bool trainable)
    {
        foreach (var p in _parameters.Values) p.RequiresGrad = trainable;
    }

    public void Dispose()
    {
        foreach (var p in _parameters.Values) p.Dispose();
        foreach (var f in _fusedBuffers) f.Dispose();
    }
}
