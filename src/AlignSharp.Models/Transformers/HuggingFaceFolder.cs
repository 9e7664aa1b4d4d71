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
    /// <summary>Loads a model folder; errors name the file and the key or tensor.</summary>
    public static TransformerModel Load(string folder) => Load(folder, out _);

    /// <summary>Loads a model folder, also giving the checkpoint's tensors that are not part of the transformer (e.g. a reward head's score.weight).</summary>
    internal static TransformerModel Load(string folder, out Dictionary<string, float[]> extra)
    {
        string configPath = Path.Combine(folder, "config.json");
        if (!Directory.Exists(folder)) throw new ModelFormatException($"{folder}: folder not found");
        if (!File.Exists(configPath)) throw new ModelFormatException($"{folder}: no config.json (a Hugging Face model folder needs config.json and model.safetensors)");
        var config = ModelConfig.FromJson(File.ReadAllText(configPath), configPath).Validate(configPath);

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
            }
            extra = checkpoint.Names.Where(n => n.StartsWith("score.")).ToDictionary(n => n, n => checkpoint.ReadFloat32(n));
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return model;
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
