using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using AlignSharp.Models.Checkpoints;

namespace AlignSharp.Models.Transformers;

/// <summary>
/// Reads and writes Hugging Face model folders: config.json, model.safetensors (or shards with
/// model.safetensors.index.json) in F32/F16/BF16, generation_config.json. Weights are read straight from the
/// memory-mapped files into their parameter buffers (computed in float32), so loading holds one float32 copy.
/// </summary>
public static class HuggingFaceFolder
{
    /// <summary>
    /// Loads a causal language model folder (*ForCausalLM / GPT2LMHeadModel); errors name the file and the key or
    /// tensor. A reward/value model folder (*ForSequenceClassification) is refused: load it with
    /// <see cref="ValueHeadModel.Load"/>. A tokenizer.json in the folder must fit the model's vocabulary.
    /// </summary>
    /// <param name="folder">The model folder.</param>
    /// <param name="checkFinite">Refuse weights that hold NaN or ±Inf, naming the tensor (on by default; the check
    /// reads each value once, which costs little next to the conversion to float32).</param>
    public static TransformerModel Load(string folder, bool checkFinite = true) => Load(folder, out _, checkFinite, valueHead: false);

    /// <summary>
    /// Loads a model folder, also giving the checkpoint's tensors that are not part of the transformer (e.g. a reward
    /// head's score.weight). <paramref name="valueHead"/>: the caller (<see cref="ValueHeadModel.Load"/>) accepts a
    /// *ForSequenceClassification body without a language-model head; otherwise such a folder is refused, saying which commands take it.
    /// </summary>
    internal static TransformerModel Load(string folder, out Dictionary<string, float[]> extra, bool checkFinite = true, bool valueHead = true)
    {
        var config = ReadConfig(folder);
        string configPath = Path.Combine(folder, "config.json");
        if (!valueHead && !config.HasLmHead)
            throw new ModelFormatException($"{folder} holds a reward/value model ({ArchitectureName(configPath)}: a score head, no language-model head), " +
                "which cannot generate text; generate, train sft/dpo/kto/orpo/simpo and demo need a causal LM (*ForCausalLM) folder — " +
                "a reward model folder is the model: of train rm (to train it further)");
        CheckTokenizerFits(folder, config);

        using var checkpoint = SafetensorsCheckpoint.Open(folder);
        var byCanonical = new Dictionary<string, string>();
        foreach (var name in checkpoint.Names)
            if (WeightLayout.Canonical(config, name) is { } canonical) byCanonical[canonical] = name;

        var model = TransformerModel.Allocate(config);
        try
        {
            foreach (var (name, shape) in WeightLayout.Weights(config))
            {
                if (!byCanonical.TryGetValue(name, out var stored))
                    throw new ModelFormatException($"{folder}: the checkpoint has no tensor '{name}' (needed by config.json: {config.Architecture}, {config.NumLayers} layers{(name == "lm_head.weight" ? ", tie_word_embeddings false" : "")})");
                var info = checkpoint.Info(stored);
                if (!info.Shape.SequenceEqual(shape))
                    throw new ModelFormatException($"{folder}: tensor '{stored}' has shape {info.ShapeText} but config.json needs [{string.Join(", ", shape)}]");
                var p = model.Parameters[name];
                if (WeightLayout.IsConv1D(config, name))
                {
                    var raw = checkpoint.ReadFloat32(stored);
                    // Conv1D stores [in, out]; the model keeps [out, in].
                    var dst = p.Span;
                    for (int i = 0; i < shape[0]; i++)
                        for (int o = 0; o < shape[1]; o++) dst[o * shape[0] + i] = raw[i * shape[1] + o];
                }
                else checkpoint.ReadFloat32(stored, p.Span);
                if (checkFinite) CheckFinite(folder, stored, p.Span);
            }
            extra = checkpoint.Names.Where(n => n.StartsWith("score.")).ToDictionary(n => n, n => checkpoint.ReadFloat32(n));
            if (checkFinite) foreach (var (name, values) in extra) CheckFinite(folder, name, values);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return model;
    }

    /// <summary>
    /// A model folder's config.json, checked (<see cref="ModelConfig.Validate"/>); e.g. <see cref="ModelConfig.HasLmHead"/>
    /// tells a causal LM from a reward/value model before the weights are read.
    /// </summary>
    /// <exception cref="ModelFormatException">No such folder, no config.json, or a bad key; the message names it.</exception>
    public static ModelConfig ReadConfig(string folder)
    {
        string configPath = Path.Combine(folder, "config.json");
        if (!Directory.Exists(folder)) throw new ModelFormatException($"{folder}: folder not found");
        if (!File.Exists(configPath)) throw new ModelFormatException($"{folder}: no config.json (a Hugging Face model folder needs config.json and model.safetensors)");
        return ModelConfig.FromJson(File.ReadAllText(configPath), configPath).Validate(configPath);
    }

    /// <summary>
    /// Reads every tensor of a folder's checkpoint (one at a time) and throws naming the first that holds NaN or ±Inf —
    /// the check <see cref="Load(string, bool)"/> makes, for tools that only inspect a folder (e.g. `model info`).
    /// </summary>
    /// <exception cref="ModelFormatException">A tensor holds a non-finite value; the message names it.</exception>
    public static void CheckWeightsFinite(string folder)
    {
        using var checkpoint = SafetensorsCheckpoint.Open(folder);
        foreach (var name in checkpoint.Names)
            if (checkpoint.Info(name).DType is not (DType.I64 or DType.I32 or DType.I16 or DType.I8 or DType.U64 or DType.U32 or DType.U16 or DType.U8 or DType.BOOL))
                CheckFinite(folder, name, checkpoint.ReadFloat32(name));
    }

    /// <summary>Throws naming the tensor and the first bad value when <paramref name="values"/> holds NaN or ±Inf.</summary>
    internal static void CheckFinite(string folder, string tensor, ReadOnlySpan<float> values)
    {
        int bad = FirstNonFinite(values);
        if (bad < 0) return;
        int count = 0;
        for (int i = bad; i < values.Length; i++) if (!float.IsFinite(values[i])) count++;
        throw new ModelFormatException($"{folder}: tensor '{tensor}' holds {count} non-finite value(s) (first: {(float.IsNaN(values[bad]) ? "NaN" : values[bad] > 0 ? "+Inf" : "-Inf")} at flat index {bad}); " +
            "the checkpoint is damaged or training diverged — use an earlier checkpoint, or load it anyway with checkFinite: false (generate --no-check)");
    }

    /// <summary>Index of the first NaN or ±Inf, or −1. x − x is 0 for every finite x and NaN for NaN and ±Inf.</summary>
    internal static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            int width = System.Numerics.Vector<float>.Count;
            for (; i + width <= values.Length; i += width)
            {
                var v = new System.Numerics.Vector<float>(values[i..]);
                if (!System.Numerics.Vector.EqualsAll(v - v, System.Numerics.Vector<float>.Zero)) break;
            }
        }
        for (; i < values.Length; i++) if (!float.IsFinite(values[i])) return i;
        return -1;
    }

    /// <summary>
    /// A tokenizer.json in <paramref name="folder"/> must not produce ids the embedding of <paramref name="config"/> has no
    /// row for (<see cref="Load(string, bool)"/> checks this). Only the ids are read (the full tokenizer is loaded where it
    /// is used); a tokenizer.json that is not valid JSON is reported there.
    /// </summary>
    /// <exception cref="ModelFormatException">The tokenizer has an id ≥ vocab_size; the message gives both.</exception>
    public static void CheckTokenizerFits(string folder, ModelConfig config)
    {
        string path = Path.Combine(folder, "tokenizer.json");
        if (!File.Exists(path)) return;
        int maxId = -1;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true });
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return;
            if (root.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.Object
                && model.TryGetProperty("vocab", out var vocab) && vocab.ValueKind == JsonValueKind.Object)
                foreach (var entry in vocab.EnumerateObject())
                    if (entry.Value.ValueKind == JsonValueKind.Number && entry.Value.TryGetInt32(out int id)) maxId = Math.Max(maxId, id);
            if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
                foreach (var token in added.EnumerateArray())
                    if (token.ValueKind == JsonValueKind.Object && token.TryGetProperty("id", out var idValue)
                        && idValue.ValueKind == JsonValueKind.Number && idValue.TryGetInt32(out int id)) maxId = Math.Max(maxId, id);
        }
        catch (JsonException) { return; }
        if (maxId >= config.VocabSize)
            throw new ModelFormatException($"{folder}: tokenizer.json has token ids up to {maxId} but config.json vocab_size is {config.VocabSize} " +
                $"(the embedding has rows 0-{config.VocabSize - 1}); the tokenizer belongs to another model — put the model's own tokenizer here " +
                "(or make the model with `model init --tokenizer DIR`)");
    }

    private static string ArchitectureName(string configPath)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(configPath))?["architectures"] is JsonArray { Count: > 0 } a && a[0] is JsonValue v && v.TryGetValue(out string? name)
                ? name : "*ForSequenceClassification";
        }
        catch (JsonException) { return "*ForSequenceClassification"; }
    }

    /// <summary>
    /// Writes config.json, the weights (F32, F16 or BF16; sharded past <paramref name="maxShardBytes"/>) and
    /// generation_config.json, so transformers' from_pretrained loads what AlignSharp trained.
    /// </summary>
    public static void Save(TransformerModel model, string folder, DType dtype = DType.F32, long maxShardBytes = SafetensorsCheckpoint.DefaultMaxShardBytes) =>
        Save(model, folder, dtype, maxShardBytes, []);

    internal static void Save(TransformerModel model, string folder, DType dtype, long maxShardBytes, IReadOnlyList<TensorToWrite> extra, ModelConfig? asConfig = null)
    {
        var config = (asConfig ?? model.Config) with { TorchDtype = dtype switch { DType.BF16 => "bfloat16", DType.F16 => "float16", _ => "float32" } };
        Directory.CreateDirectory(folder);
        var tensors = WeightLayout.Weights(config).Select(w =>
        {
            var p = model.Parameters[w.Name];
            // Values are copied when the writer reaches each tensor, so saving never holds a second copy of the model.
            if (!WeightLayout.IsConv1D(config, w.Name)) return new TensorToWrite(w.Name, w.Shape, span => p.Span.CopyTo(span), dtype);
            return new TensorToWrite(w.Name, w.Shape, span =>
            {
                var s = p.Span;
                for (int i = 0; i < w.Shape[0]; i++)
                    for (int o = 0; o < w.Shape[1]; o++) span[i * w.Shape[1] + o] = s[o * w.Shape[0] + i];
            }, dtype);
        });
        SafetensorsCheckpoint.Save(folder, tensors.Concat(extra.Select(t => t with { DType = dtype })), maxShardBytes, new Dictionary<string, string> { ["format"] = "pt" });
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJson());
        var generation = new JsonObject { ["_from_model_config"] = true };
        if (config.BosTokenId is { } bos) generation["bos_token_id"] = bos;
        if (config.EosTokenIds.Length == 1) generation["eos_token_id"] = config.EosTokenIds[0];
        else if (config.EosTokenIds.Length > 1) generation["eos_token_id"] = new JsonArray(config.EosTokenIds.Select(x => (JsonNode)x).ToArray());
        if (config.PadTokenId is { } pad) generation["pad_token_id"] = pad;
        File.WriteAllText(Path.Combine(folder, "generation_config.json"),
            generation.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
    }
}
