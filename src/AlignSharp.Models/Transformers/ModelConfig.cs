using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AlignSharp.Models.Transformers;

/// <summary>The decoder families AlignSharp runs. Their differences are data in <see cref="ModelConfig"/>, not separate code.</summary>
public enum Architecture { Llama, Qwen2, Gpt2 }

/// <summary>Llama-3 style RoPE frequency scaling (<c>rope_scaling</c> with rope_type "llama3"), or "linear".</summary>
public sealed record RopeScaling(string Type, float Factor, float LowFreqFactor = 1f, float HighFreqFactor = 4f, int OriginalMaxPositions = 8192);

/// <summary>
/// A decoder-only transformer's hyperparameters, read from and written to Hugging Face <c>config.json</c>.
/// Family traits (norm type, positions, MLP, biases, weight layout) derive from <see cref="Architecture"/>.
/// </summary>
public sealed record ModelConfig
{
    public Architecture Architecture { get; init; } = Architecture.Llama;
    public int VocabSize { get; init; }
    public int HiddenSize { get; init; }
    public int IntermediateSize { get; init; }
    public int NumLayers { get; init; }
    public int NumHeads { get; init; }
    public int NumKvHeads { get; init; }
    public int HeadDim { get; init; }
    public float NormEps { get; init; } = 1e-5f;
    public float RopeTheta { get; init; } = 10000f;
    public RopeScaling? RopeScaling { get; init; }
    public int MaxPositions { get; init; } = 2048;
    public bool TieWordEmbeddings { get; init; }
    public bool AttentionBias { get; init; }
    public bool MlpBias { get; init; }
    public int? BosTokenId { get; init; }
    public int[] EosTokenIds { get; init; } = [];
    public int? PadTokenId { get; init; }
    /// <summary>
    /// False for a body without a language-model head: the *ForSequenceClassification checkpoints of reward and
    /// value models, whose head is <c>score.weight</c> (see <see cref="ValueHeadModel"/>).
    /// </summary>
    public bool HasLmHead { get; init; } = true;
    /// <summary>The dtype the checkpoint stores ("float32", "bfloat16", "float16"); computation is always float32.</summary>
    public string TorchDtype { get; init; } = "float32";

    // ---- family traits ----
    public bool UsesLayerNorm => Architecture == Architecture.Gpt2;
    public bool LearnedPositions => Architecture == Architecture.Gpt2;
    public bool GatedMlp => Architecture != Architecture.Gpt2;
    /// <summary>Whether q/k/v projections carry biases (Qwen2 always; Llama when attention_bias; GPT-2 always).</summary>
    public bool QkvBias => Architecture switch { Architecture.Qwen2 => true, Architecture.Gpt2 => true, _ => AttentionBias };
    public bool OutputProjectionBias => Architecture == Architecture.Gpt2 || (Architecture == Architecture.Llama && AttentionBias);
    public bool MlpHasBias => Architecture == Architecture.Gpt2 || MlpBias;

    /// <summary>Checks internal consistency; throws naming the key and the fix.</summary>
    public ModelConfig Validate(string origin = "config.json")
    {
        void Require(bool ok, string message) { if (!ok) throw new ModelFormatException($"{origin}: {message}"); }
        Require(VocabSize > 0, $"vocab_size must be positive (got {VocabSize})");
        Require(HiddenSize > 0, $"hidden_size must be positive (got {HiddenSize})");
        Require(NumLayers > 0, $"num_hidden_layers must be positive (got {NumLayers})");
        Require(NumHeads > 0, $"num_attention_heads must be positive (got {NumHeads})");
        Require(NumKvHeads > 0 && NumHeads % NumKvHeads == 0, $"num_key_value_heads must divide num_attention_heads (got {NumKvHeads} and {NumHeads})");
        Require(HeadDim > 0 && (LearnedPositions || HeadDim % 2 == 0), $"head_dim must be positive and even for rotary embeddings (got {HeadDim})");
        Require(IntermediateSize > 0, $"intermediate_size must be positive (got {IntermediateSize})");
        Require(MaxPositions > 0, $"max_position_embeddings must be positive (got {MaxPositions})");
        // Every weight is one tensor of at most 2^31 − 1 elements.
        Require((long)VocabSize * HiddenSize <= int.MaxValue, $"vocab_size × hidden_size must be below 2^31 (got {VocabSize} × {HiddenSize})");
        Require((long)IntermediateSize * HiddenSize <= int.MaxValue, $"intermediate_size × hidden_size must be below 2^31 (got {IntermediateSize} × {HiddenSize})");
        Require((long)NumHeads * HeadDim * HiddenSize <= int.MaxValue, $"num_attention_heads × head_dim × hidden_size must be below 2^31 (got {NumHeads} × {HeadDim} × {HiddenSize})");
        Require(!LearnedPositions || (long)MaxPositions * HiddenSize <= int.MaxValue, $"n_positions × n_embd must be below 2^31 (got {MaxPositions} × {HiddenSize})");
        return this;
    }

    /// <summary>Parses a Hugging Face config.json (old and new key locations, eos as int or list).</summary>
    public static ModelConfig FromJson(string json, string origin = "config.json")
    {
        JsonNode? root;
        // Duplicate keys are an error (JsonObject would otherwise throw on first access to any key).
        try { root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }); }
        catch (JsonException e) { throw new ModelFormatException($"{origin}: not valid JSON at line {e.LineNumber + 1}: {e.Message}"); }
        if (root is not JsonObject c) throw new ModelFormatException($"{origin}: expected a JSON object");
        string modelType = Str(c, "model_type", origin) ?? throw new ModelFormatException($"{origin}: model_type: missing (expected llama, qwen2 or gpt2)");
        var arch = modelType switch
        {
            "llama" => Architecture.Llama,
            "qwen2" => Architecture.Qwen2,
            "gpt2" => Architecture.Gpt2,
            _ => throw new ModelFormatException($"{origin}: model_type: '{modelType}' is not supported (supported: llama, qwen2, gpt2)"),
        };
        int? Int(string key) => IntOrNull(c, key, origin);
        float? Float(string key) => FloatOrNull(c, key, origin);
        ModelConfig config;
        if (arch == Architecture.Gpt2)
        {
            int hidden = Int("n_embd") ?? Int("hidden_size") ?? throw Missing(origin, "n_embd");
            int heads = Int("n_head") ?? throw Missing(origin, "n_head");
            if (heads <= 0) throw new ModelFormatException($"{origin}: n_head must be positive (got {heads})");
            config = new ModelConfig
            {
                Architecture = arch,
                VocabSize = Int("vocab_size") ?? throw Missing(origin, "vocab_size"),
                HiddenSize = hidden,
                IntermediateSize = Int("n_inner") ?? 4 * hidden,
                NumLayers = Int("n_layer") ?? throw Missing(origin, "n_layer"),
                NumHeads = heads, NumKvHeads = heads, HeadDim = hidden / heads,
                NormEps = Float("layer_norm_epsilon") ?? 1e-5f,
                MaxPositions = Int("n_positions") ?? Int("n_ctx") ?? 1024,
                TieWordEmbeddings = Bool(c, "tie_word_embeddings", origin) ?? true,
            };
            string activation = Str(c, "activation_function", origin) ?? "gelu_new";
            if (activation is not ("gelu_new" or "gelu_pytorch_tanh"))
                throw new ModelFormatException($"{origin}: activation_function: '{activation}' is not supported (GPT-2 models here use the tanh GELU, gelu_new)");
        }
        else
        {
            int hidden = Int("hidden_size") ?? throw Missing(origin, "hidden_size");
            int heads = Int("num_attention_heads") ?? throw Missing(origin, "num_attention_heads");
            var ropeParams = c["rope_parameters"] as JsonObject;
            float theta = Float("rope_theta") ?? FloatAt(ropeParams?["rope_theta"], "rope_parameters.rope_theta", origin) ?? 10000f;
            config = new ModelConfig
            {
                Architecture = arch,
                VocabSize = Int("vocab_size") ?? throw Missing(origin, "vocab_size"),
                HiddenSize = hidden,
                IntermediateSize = Int("intermediate_size") ?? throw Missing(origin, "intermediate_size"),
                NumLayers = Int("num_hidden_layers") ?? throw Missing(origin, "num_hidden_layers"),
                NumHeads = heads,
                NumKvHeads = Int("num_key_value_heads") ?? heads,
                HeadDim = Int("head_dim") ?? (heads > 0 ? hidden / heads : 0), // Validate names num_attention_heads
                NormEps = Float("rms_norm_eps") ?? 1e-6f,
                RopeTheta = theta,
                RopeScaling = ParseRopeScaling(c["rope_scaling"] ?? (ropeParams is not null && ropeParams.ContainsKey("rope_type") && StrAt(ropeParams["rope_type"], "rope_parameters.rope_type", origin) != "default" ? ropeParams : null), origin),
                MaxPositions = Int("max_position_embeddings") ?? 2048,
                TieWordEmbeddings = Bool(c, "tie_word_embeddings", origin) ?? false,
                AttentionBias = Bool(c, "attention_bias", origin) ?? false,
                MlpBias = Bool(c, "mlp_bias", origin) ?? false,
            };
            if (arch == Architecture.Qwen2 && Bool(c, "use_sliding_window", origin) == true)
                throw new ModelFormatException($"{origin}: use_sliding_window: true is not supported");
        }
        bool classifier = c["architectures"] is JsonArray archs && archs.Any(a => StrAt(a, "architectures[]", origin)?.EndsWith("ForSequenceClassification") == true);
        return config with
        {
            HasLmHead = !classifier,
            BosTokenId = Int("bos_token_id"),
            EosTokenIds = c["eos_token_id"] switch
            {
                null => [],
                JsonArray list => list.Select(x => IntAt(x, "eos_token_id[]", origin) ?? throw new ModelFormatException($"{origin}: eos_token_id[]: expected an integer, found null")).ToArray(),
                JsonValue v => [IntAt(v, "eos_token_id", origin)!.Value],
                _ => throw new ModelFormatException($"{origin}: eos_token_id: expected an integer or a list of integers"),
            },
            PadTokenId = Int("pad_token_id"),
            TorchDtype = Str(c, "torch_dtype", origin) ?? Str(c, "dtype", origin) ?? "float32",
        };
    }

    private static RopeScaling? ParseRopeScaling(JsonNode? node, string origin)
    {
        if (node is null) return null;
        if (node is not JsonObject o) throw new ModelFormatException($"{origin}: rope_scaling: expected an object");
        string type = StrAt(o["rope_type"] ?? o["type"], "rope_scaling.rope_type", origin) ?? throw new ModelFormatException($"{origin}: rope_scaling.rope_type: missing");
        float factor = FloatAt(o["factor"], "rope_scaling.factor", origin) ?? throw new ModelFormatException($"{origin}: rope_scaling.factor: missing");
        return type switch
        {
            "llama3" => new RopeScaling(type, factor, FloatAt(o["low_freq_factor"], "rope_scaling.low_freq_factor", origin) ?? 1f,
                FloatAt(o["high_freq_factor"], "rope_scaling.high_freq_factor", origin) ?? 4f,
                IntAt(o["original_max_position_embeddings"], "rope_scaling.original_max_position_embeddings", origin) ?? 8192),
            "linear" => new RopeScaling(type, factor),
            _ => throw new ModelFormatException($"{origin}: rope_scaling.rope_type: '{type}' is not supported (supported: llama3, linear)"),
        };
    }

    /// <summary>The config.json Hugging Face transformers loads for this model.</summary>
    public string ToJson()
    {
        var c = new JsonObject();
        if (Architecture == Architecture.Gpt2)
        {
            c["architectures"] = new JsonArray(HasLmHead ? "GPT2LMHeadModel" : "GPT2ForSequenceClassification");
            c["model_type"] = "gpt2";
            c["vocab_size"] = VocabSize; c["n_embd"] = HiddenSize; c["n_layer"] = NumLayers; c["n_head"] = NumHeads;
            c["n_inner"] = IntermediateSize; c["n_positions"] = MaxPositions; c["n_ctx"] = MaxPositions;
            c["layer_norm_epsilon"] = NormEps; c["activation_function"] = "gelu_new";
            c["resid_pdrop"] = 0.0; c["embd_pdrop"] = 0.0; c["attn_pdrop"] = 0.0;
        }
        else
        {
            string family = Architecture == Architecture.Qwen2 ? "Qwen2" : "Llama";
            c["architectures"] = new JsonArray(HasLmHead ? family + "ForCausalLM" : family + "ForSequenceClassification");
            c["model_type"] = Architecture == Architecture.Qwen2 ? "qwen2" : "llama";
            c["vocab_size"] = VocabSize; c["hidden_size"] = HiddenSize; c["intermediate_size"] = IntermediateSize;
            c["num_hidden_layers"] = NumLayers; c["num_attention_heads"] = NumHeads; c["num_key_value_heads"] = NumKvHeads;
            c["head_dim"] = HeadDim; c["rms_norm_eps"] = NormEps; c["rope_theta"] = RopeTheta;
            c["max_position_embeddings"] = MaxPositions; c["hidden_act"] = "silu";
            if (Architecture == Architecture.Llama) { c["attention_bias"] = AttentionBias; c["mlp_bias"] = MlpBias; }
            if (RopeScaling is { } s)
                c["rope_scaling"] = s.Type == "llama3"
                    ? new JsonObject { ["rope_type"] = "llama3", ["factor"] = s.Factor, ["low_freq_factor"] = s.LowFreqFactor, ["high_freq_factor"] = s.HighFreqFactor, ["original_max_position_embeddings"] = s.OriginalMaxPositions }
                    : new JsonObject { ["rope_type"] = s.Type, ["factor"] = s.Factor };
            c["attention_dropout"] = 0.0;
        }
        c["tie_word_embeddings"] = TieWordEmbeddings;
        if (!HasLmHead) { c["num_labels"] = 1; c["id2label"] = new JsonObject { ["0"] = "LABEL_0" }; c["label2id"] = new JsonObject { ["LABEL_0"] = 0 }; }
        if (BosTokenId is { } bos) c["bos_token_id"] = bos;
        if (EosTokenIds.Length == 1) c["eos_token_id"] = EosTokenIds[0];
        else if (EosTokenIds.Length > 1) c["eos_token_id"] = new JsonArray(EosTokenIds.Select(x => (JsonNode)x).ToArray());
        if (PadTokenId is { } pad) c["pad_token_id"] = pad;
        c["torch_dtype"] = TorchDtype;
        c["use_cache"] = true;
        return c.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    /// <summary>RoPE inverse frequencies, with Llama-3 or linear scaling applied as Hugging Face computes them.</summary>
    public float[] RopeInverseFrequencies()
    {
        var inv = Tensors.RopeTable.DefaultInverseFrequencies(HeadDim, RopeTheta);
        if (RopeScaling is not { } s) return inv;
        if (s.Type == "linear") return inv.Select(f => f / s.Factor).ToArray();
        // Llama 3.1: keep high frequencies, divide low ones by the factor, interpolate smoothly in between.
        float lowWavelen = s.OriginalMaxPositions / s.LowFreqFactor, highWavelen = s.OriginalMaxPositions / s.HighFreqFactor;
        for (int i = 0; i < inv.Length; i++)
        {
            float wavelen = 2f * MathF.PI / inv[i];
            float scaled = wavelen > lowWavelen ? inv[i] / s.Factor : inv[i];
            bool medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
            if (medium)
            {
                float smooth = (s.OriginalMaxPositions / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                scaled = (1 - smooth) * scaled / s.Factor + smooth * scaled;
            }
            inv[i] = scaled;
        }
        return inv;
    }

    private static ModelFormatException Missing(string origin, string key) => new($"{origin}: {key}: missing");

    private static string? Str(JsonObject c, string key, string origin) => StrAt(c[key], key, origin);
    private static int? IntOrNull(JsonObject c, string key, string origin) => IntAt(c[key], key, origin);
    private static float? FloatOrNull(JsonObject c, string key, string origin) => FloatAt(c[key], key, origin);

    // The readers below check the JSON kind first: JsonValue.GetValue throws InvalidOperationException on a kind
    // mismatch, and on a string holding an unpaired surrogate escape such as "\ud800".

    private static string? StrAt(JsonNode? node, string key, string origin)
    {
        if (node is null) return null;
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.String)
            throw new ModelFormatException($"{origin}: {key}: expected a string, found {Show(node)}");
        try { return v.GetValue<string>(); }
        catch (InvalidOperationException) { throw new ModelFormatException($"{origin}: {key}: the string holds an unpaired UTF-16 surrogate escape (\\ud800-\\udfff); fix the escape"); }
    }

    private static double? NumberAt(JsonNode? node, string key, string origin, string expected) =>
        node is null ? null
        : node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out double d) && double.IsFinite(d) ? d
        : throw new ModelFormatException($"{origin}: {key}: expected {expected}, found {Show(node)}");

    private static int? IntAt(JsonNode? node, string key, string origin) =>
        NumberAt(node, key, origin, "an integer") is not { } d ? null
        : d == Math.Floor(d) && d >= int.MinValue && d <= int.MaxValue ? (int)d
        : throw new ModelFormatException($"{origin}: {key}: expected an integer in [{int.MinValue}, {int.MaxValue}], found {Show(node)}");

    private static float? FloatAt(JsonNode? node, string key, string origin) =>
        NumberAt(node, key, origin, "a number") is not { } d ? null
        : float.IsFinite((float)d) ? (float)d
        : throw new ModelFormatException($"{origin}: {key}: {Show(node)} is out of the float32 range");

    /// <summary>The node as JSON for a message, cut to 60 characters (its kind when it cannot be written).</summary>
    internal static string Show(JsonNode? node)
    {
        if (node is null) return "null";
        string text;
        try { text = node.ToJsonString(); }
        catch (InvalidOperationException) { return $"a {node.GetValueKind().ToString().ToLowerInvariant()}"; }
        return text.Length <= 60 ? text : text[..57] + "...";
    }

    private static bool? Bool(JsonObject c, string key, string origin) => c[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out bool b) => b,
        var other => throw new ModelFormatException($"{origin}: {key}: expected true or false, found {Show(other)}"),
    };
}

/// <summary>A model folder or file that cannot be used as it is; the message names the file, key or tensor and the fix.</summary>
public sealed class ModelFormatException(string message) : Exception(message);
