using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using AlignSharp.Models.Checkpoints;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;

namespace AlignSharp.Models.Lora;

/// <summary>
/// PEFT's LoRA adapter folder: adapter_config.json (peft_type LORA, r, lora_alpha, target_modules, ...) and
/// adapter_model.safetensors with tensors <c>base_model.model.&lt;module&gt;.lora_A.weight</c> [r, in] and
/// <c>.lora_B.weight</c> [out, r], so PEFT loads AlignSharp's adapters and AlignSharp loads PEFT's.
/// </summary>
public static class PeftFormat
{
    private const string Prefix = "base_model.model.";
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";

    public static void Save(LoraAdapters adapters, string folder, string? baseModel = null)
    {
        Directory.CreateDirectory(folder);
        var c = adapters.Config;
        // PEFT's list form names the leaf modules; keep the user's regex when that is what they gave.
        JsonNode targets = c.TargetRegex is { } regex ? JsonValue.Create(regex)!
            : new JsonArray(adapters.Modules.Keys.Select(m => m[(m.LastIndexOf('.') + 1)..]).Distinct().Order().Select(t => (JsonNode)JsonValue.Create(t)!).ToArray());
        var config = new JsonObject
        {
            ["peft_type"] = "LORA", ["task_type"] = "CAUSAL_LM", ["base_model_name_or_path"] = baseModel,
            ["r"] = c.Rank, ["lora_alpha"] = c.Alpha, ["lora_dropout"] = c.Dropout, ["target_modules"] = targets,
            ["bias"] = "none", ["use_rslora"] = c.UseRsLora, ["fan_in_fan_out"] = false, ["inference_mode"] = true,
            ["init_lora_weights"] = true, ["modules_to_save"] = null, ["use_dora"] = false,
        };
        File.WriteAllText(Path.Combine(folder, ConfigFile), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        var tensors = adapters.Modules.OrderBy(m => m.Key, StringComparer.Ordinal).SelectMany(m => new[]
        {
            new TensorToWrite($"{Prefix}{m.Key}.lora_A.weight", m.Value.A.ShapeArray.ToArray(), span => m.Value.A.Span.CopyTo(span)),
            new TensorToWrite($"{Prefix}{m.Key}.lora_B.weight", m.Value.B.ShapeArray.ToArray(), span => m.Value.B.Span.CopyTo(span)),
        });
        SafetensorsWriter.Write(Path.Combine(folder, WeightsFile), tensors, new Dictionary<string, string> { ["format"] = "pt" });
    }

    /// <summary>Loads a PEFT LoRA adapter for <paramref name="model"/>; errors name the file and key.</summary>
    public static LoraAdapters Load(string folder, TransformerModel model)
    {
        string configPath = Path.Combine(folder, ConfigFile);
        if (!File.Exists(configPath)) throw new ModelFormatException($"{folder}: no {ConfigFile} (a PEFT adapter folder needs {ConfigFile} and {WeightsFile})");
        if (JsonNode.Parse(File.ReadAllText(configPath)) is not JsonObject c) throw new ModelFormatException($"{configPath}: expected a JSON object");
        string peftType = c["peft_type"]?.GetValue<string>() ?? "";
        if (peftType != "LORA") throw new ModelFormatException($"{configPath}: peft_type '{peftType}' is not supported (only LORA)");
        foreach (var flag in new[] { "use_dora", "fan_in_fan_out" })
            if (c[flag] is JsonValue v && v.TryGetValue(out bool on) && on && !(flag == "fan_in_fan_out" && model.Config.Architecture == Architecture.Gpt2))
                throw new ModelFormatException($"{configPath}: {flag}: true is not supported");
        if (c["bias"] is JsonValue b && b.GetValue<string>() != "none") throw new ModelFormatException($"{configPath}: bias: '{b}' is not supported (only \"none\")");
        int rank = c["r"]?.GetValue<int>() ?? throw new ModelFormatException($"{configPath}: r: missing");
        float alpha = c["lora_alpha"] is JsonValue a ? (float)a.GetValue<double>() : rank;
        var config = new LoraConfig(rank, alpha, c["lora_dropout"] is JsonValue d ? (float)d.GetValue<double>() : 0f,
            c["target_modules"] is JsonArray list ? list.Select(x => x!.GetValue<string>()).ToArray() : null,
            c["target_modules"] is JsonValue rx ? rx.GetValue<string>() : null,
            c["use_rslora"] is JsonValue rs && rs.GetValue<bool>());

        using var file = SafetensorsFile.Open(Path.Combine(folder, WeightsFile));
        var linear = LoraAdapters.LinearModules(model).ToDictionary(m => m.Module, m => (m.Out, m.In));
        var modules = new Dictionary<string, (Tensor A, Tensor B)>();
        foreach (var name in file.Tensors.Keys)
        {
            if (!name.EndsWith(".lora_A.weight")) continue;
            string module = name[..^".lora_A.weight".Length];
            if (module.StartsWith(Prefix)) module = module[Prefix.Length..];
            if (model.Config.Architecture == Architecture.Gpt2 && !module.StartsWith("transformer.") && module != "lm_head") module = "transformer." + module;
            if (!linear.TryGetValue(module, out var dims))
                throw new ModelFormatException($"{WeightsFile}: tensor '{name}' adapts '{module}', which is not a linear layer of this model");
            string bName = name[..^".lora_A.weight".Length] + ".lora_B.weight";
            if (!file.Contains(bName)) throw new ModelFormatException($"{WeightsFile}: '{name}' has no matching '{bName}'");
            var aInfo = file.Info(name); var bInfo = file.Info(bName);
            if (!aInfo.Shape.SequenceEqual([rank, dims.In]) || !bInfo.Shape.SequenceEqual([dims.Out, rank]))
                throw new ModelFormatException($"{WeightsFile}: '{module}' adapter shapes {aInfo.ShapeText} and {bInfo.ShapeText} do not fit r={rank} and the layer [{dims.Out}, {dims.In}] (need [{rank}, {dims.In}] and [{dims.Out}, {rank}])");
            var pa = Tensor.Parameter(rank, dims.In); file.ReadFloat32(name, pa.Span);
            var pb = Tensor.Parameter(dims.Out, rank); file.ReadFloat32(bName, pb.Span);
            modules[module] = (pa, pb);
        }
        if (modules.Count == 0) throw new ModelFormatException($"{WeightsFile}: no lora_A/lora_B tensors");
        return new LoraAdapters(config, modules);
    }
}
