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
    public const string ConfigFile = PeftAdapterConfig.FileName;
    public const string WeightsFile = "adapter_model.safetensors";

    public static void Save(LoraAdapters adapters, string folder, string? baseModel = null)
    {
        Directory.CreateDirectory(folder);
        var c = adapters.Config;
        // PEFT's list form names the leaf modules; keep the user's regex when that is what they gave.
        JsonNode targets = c.TargetRegex is { } regex ? JsonValue.Create(regex)!
            : new JsonArray(adapters.Modules.Keys.Select(m => m[(m.LastIndexOf('.') + 1)..]).Distinct().Order().Select(t => (JsonNode)JsonValue.Create(t)!).ToArray());
        // GPT-2's c_attn/c_proj/c_fc are Conv1D ([in, out]); PEFT marks adapters on them fan_in_fan_out.
        bool fanInFanOut = adapters.Modules.Keys.Any(m => m.StartsWith("transformer.h.", StringComparison.Ordinal));
        var config = new JsonObject
        {
            ["peft_type"] = "LORA", ["task_type"] = "CAUSAL_LM", ["base_model_name_or_path"] = baseModel,
            ["r"] = c.Rank, ["lora_alpha"] = c.Alpha, ["lora_dropout"] = c.Dropout, ["target_modules"] = targets,
            ["bias"] = "none", ["use_rslora"] = c.UseRsLora, ["fan_in_fan_out"] = fanInFanOut, ["inference_mode"] = true,
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

    /// <summary>
    /// The adapter's modules with their lora_A [r, in] and lora_B [out, r] tensor names and shapes, by module name as
    /// written (less the <c>base_model.model.</c> prefix). Any other tensor (modules_to_save copies, DoRA magnitudes,
    /// embedding adapters) is refused, since leaving it out would silently change the model.
    /// </summary>
    public static IReadOnlyList<AdapterTensors> ReadModules(SafetensorsFile file, PeftAdapterConfig config)
    {
        string path = file.Path;
        var modules = new List<AdapterTensors>();
        foreach (var (name, info) in file.Tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            if (name.EndsWith(".lora_B.weight") && file.Tensors.ContainsKey(name[..^".lora_B.weight".Length] + ".lora_A.weight")) continue;
            if (name.EndsWith(".lora_B.weight"))
                throw new ModelFormatException($"{path}: '{name}' has no matching '{name[..^".lora_B.weight".Length]}.lora_A.weight'");
            if (!name.EndsWith(".lora_A.weight"))
                throw new ModelFormatException($"{path}: tensor '{name}' is not a LoRA lora_A/lora_B weight (modules_to_save, DoRA and embedding adapters are not supported); merge it with PEFT instead");
            string stem = name[..^".lora_A.weight".Length];
            string bName = stem + ".lora_B.weight";
            if (!file.Tensors.TryGetValue(bName, out var b)) throw new ModelFormatException($"{path}: '{name}' has no matching '{bName}'");
            int r = config.Lora.Rank;
            if (info.Shape.Length != 2 || b.Shape.Length != 2 || info.Shape[0] != r || b.Shape[1] != r)
                throw new ModelFormatException($"{path}: '{stem}' has lora_A {info.ShapeText} and lora_B {b.ShapeText}, but {PeftAdapterConfig.FileName} says r={r} (need [{r}, in] and [out, {r}])");
            modules.Add(new AdapterTensors(stem.StartsWith(Prefix) ? stem[Prefix.Length..] : stem, name, bName, r, info.Shape[1], b.Shape[0]));
        }
        if (modules.Count == 0) throw new ModelFormatException($"{path}: no lora_A/lora_B tensors");
        return modules;
    }

    /// <summary>One adapted module: its tensors' names, the rank and the layer's in/out sizes they imply.</summary>
    public sealed record AdapterTensors(string Module, string AName, string BName, int Rank, int In, int Out)
    {
        /// <summary>r·in (A) + out·r (B).</summary>
        public long ParameterCount => (long)Rank * (In + Out);
    }

    /// <summary>
    /// Loads a PEFT LoRA adapter for <paramref name="model"/> (the base it was trained on). Errors name the file, the
    /// tensor or key, and the fix: a module the base lacks or a shape that does not fit means another base.
    /// </summary>
    public static LoraAdapters Load(string folder, TransformerModel model, ulong seed = 0)
    {
        var config = PeftAdapterConfig.Read(folder);
        if (config.FanInFanOut && model.Config.Architecture != Architecture.Gpt2)
            throw new ModelFormatException($"{config.Path}: fan_in_fan_out: true is only valid for GPT-2's Conv1D layers (the base is {model.Config.Architecture})");
        string weightsPath = Path.Combine(folder, WeightsFile);
        if (!File.Exists(weightsPath))
            throw new ModelFormatException($"{folder}: no {WeightsFile}{(File.Exists(Path.Combine(folder, "adapter_model.bin")) ? " (adapter_model.bin is a pickle; save the adapter with safe_serialization=True)" : "")}");
        using var file = SafetensorsFile.Open(weightsPath);
        var linear = LoraAdapters.LinearModules(model).ToDictionary(m => m.Module, m => (m.Out, m.In));
        var modules = new Dictionary<string, (Tensor A, Tensor B)>();
        try
        {
            foreach (var m in ReadModules(file, config))
            {
                string module = m.Module;
                // PEFT names GPT-2's modules from GPT2LMHeadModel (transformer.h.0...); accept the bare GPT2Model form too.
                if (model.Config.Architecture == Architecture.Gpt2 && !module.StartsWith("transformer.") && module != "lm_head") module = "transformer." + module;
                if (!linear.TryGetValue(module, out var dims))
                    throw new ModelFormatException($"{weightsPath}: '{m.AName}' adapts '{module}', which the base model ({model.Config.Architecture}, {model.Config.NumLayers} layers) has no linear layer for; use the base the adapter was trained on");
                if (dims.In != m.In || dims.Out != m.Out)
                    throw new ModelFormatException($"{weightsPath}: '{module}' adapter is [{m.Out}, {m.In}] (lora_B out, lora_A in) but the base layer is [{dims.Out}, {dims.In}]; use the base the adapter was trained on");
                var a = Tensor.Parameter(config.Lora.Rank, m.In); file.ReadFloat32(m.AName, a.Span);
                var b = Tensor.Parameter(m.Out, config.Lora.Rank); file.ReadFloat32(m.BName, b.Span);
                modules[module] = (a, b);
            }
        }
        catch
        {
            foreach (var (a, b) in modules.Values) { a.Dispose(); b.Dispose(); }
            throw;
        }
        return new LoraAdapters(config.Lora, modules, seed);
    }
}
