using System.Text.Json;
using System.Text.Json.Nodes;
using AlignSharp.Models.Transformers;

namespace AlignSharp.Models.Lora;

/// <summary>
/// A PEFT adapter folder's adapter_config.json: the LoRA options and the base model it was trained on
/// (<c>base_model_name_or_path</c>, written as the path or hub id the trainer was given). Options AlignSharp cannot
/// reproduce exactly (DoRA, per-module rank or alpha, a bias on B, other PEFT methods) are refused here, by key.
/// </summary>
/// <param name="Folder">The adapter folder.</param>
/// <param name="Lora">r, lora_alpha, lora_dropout, target_modules, use_rslora.</param>
/// <param name="BaseModelNameOrPath">base_model_name_or_path, or null when unset.</param>
/// <param name="FanInFanOut">fan_in_fan_out: the base stores [in, out] weights (GPT-2's Conv1D); only valid there.</param>
public sealed record PeftAdapterConfig(string Folder, LoraConfig Lora, string? BaseModelNameOrPath, bool FanInFanOut)
{
    public const string FileName = "adapter_config.json";

    public string Path => System.IO.Path.Combine(Folder, FileName);

    /// <summary>Whether <paramref name="folder"/> is a PEFT adapter folder (has adapter_config.json).</summary>
    public static bool IsAdapterFolder(string folder) => File.Exists(System.IO.Path.Combine(folder, FileName));

    /// <summary>Reads and checks adapter_config.json; errors name the file and the key.</summary>
    public static PeftAdapterConfig Read(string folder)
    {
        string path = System.IO.Path.Combine(folder, FileName);
        if (!Directory.Exists(folder)) throw new ModelFormatException($"{folder}: adapter folder not found");
        if (!File.Exists(path)) throw new ModelFormatException($"{folder}: no {FileName} (a PEFT adapter folder needs {FileName} and {PeftFormat.WeightsFile})");
        JsonObject c;
        try { c = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new ModelFormatException($"{path}: expected a JSON object"); }
        catch (JsonException e) { throw new ModelFormatException($"{path}: not valid JSON ({e.Message})"); }
        try { return FromJson(folder, path, c); }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new ModelFormatException($"{path}: a value has the wrong type ({e.Message})");
        }
    }

    private static PeftAdapterConfig FromJson(string folder, string path, JsonObject c)
    {
        string peftType = c["peft_type"]?.GetValue<string>() ?? "";
        if (peftType != "LORA") throw new ModelFormatException($"{path}: peft_type '{peftType}' is not supported (only LORA)");
        static bool On(JsonNode? n) => n is JsonValue v && v.TryGetValue(out bool on) && on;
        if (On(c["use_dora"])) throw new ModelFormatException($"{path}: use_dora: true is not supported (DoRA rescales the merged weight; only plain LoRA)");
        if (On(c["lora_bias"])) throw new ModelFormatException($"{path}: lora_bias: true is not supported (B has no bias here)");
        foreach (var key in new[] { "rank_pattern", "alpha_pattern" })
            if (c[key] is JsonObject pattern && pattern.Count > 0)
                throw new ModelFormatException($"{path}: {key} is not supported (every module uses r and lora_alpha here; got {pattern.Count} per-module entries)");
        if (c["bias"] is JsonValue b && b.GetValue<string>() != "none") throw new ModelFormatException($"{path}: bias: '{b}' is not supported (only \"none\")");
        int rank = c["r"]?.GetValue<int>() ?? throw new ModelFormatException($"{path}: r: missing");
        if (rank <= 0) throw new ModelFormatException($"{path}: r must be positive (got {rank})");
        // PEFT's LoraConfig defaults: lora_alpha 8, lora_dropout 0.
        double alpha = c["lora_alpha"] is JsonValue a ? a.GetValue<double>() : 8;
        var lora = new LoraConfig(rank, alpha, c["lora_dropout"] is JsonValue d ? (float)d.GetValue<double>() : 0f,
            c["target_modules"] is JsonArray list ? list.Select(x => x!.GetValue<string>()).ToArray() : null,
            c["target_modules"] is JsonValue rx ? rx.GetValue<string>() : null,
            On(c["use_rslora"]));
        string? baseModel = c["base_model_name_or_path"] is JsonValue bm ? bm.GetValue<string>() : null;
        return new PeftAdapterConfig(folder, lora, string.IsNullOrWhiteSpace(baseModel) ? null : baseModel, On(c["fan_in_fan_out"]));
    }

    /// <summary>
    /// The base model folder: <paramref name="overrideFolder"/> when given, else base_model_name_or_path — as written
    /// when absolute; when relative, first from the current directory (PEFT writes the path its trainer was given),
    /// then from the adapter folder. Fails naming the key, where it looked, and <paramref name="fix"/>.
    /// </summary>
    public string ResolveBaseModel(string? overrideFolder, string fix)
    {
        static bool IsModelFolder(string dir) => File.Exists(System.IO.Path.Combine(dir, "config.json"));
        if (overrideFolder is not null)
        {
            if (!IsModelFolder(overrideFolder)) throw new ModelFormatException($"{overrideFolder}: not a model folder (no config.json); the base model of {Path} must be a Hugging Face folder");
            return overrideFolder;
        }
        if (BaseModelNameOrPath is not { } name)
            throw new ModelFormatException($"{Path}: base_model_name_or_path is not set, so the base model is unknown; {fix}");
        string[] candidates = System.IO.Path.IsPathRooted(name) ? [name] : [System.IO.Path.GetFullPath(name), System.IO.Path.GetFullPath(System.IO.Path.Combine(Folder, name))];
        foreach (var dir in candidates)
            if (IsModelFolder(dir)) return dir;
        throw new ModelFormatException($"{Path}: base_model_name_or_path '{name}' is not a model folder here (looked for {string.Join(" and ", candidates.Select(d => System.IO.Path.Combine(d, "config.json")))}); {fix}");
    }
}
