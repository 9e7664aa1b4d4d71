using System.Text.Json.Nodes;

namespace AlignSharp.Models.Generation;

/// <summary>Reads a model folder's generation_config.json into <see cref="GenerationOptions"/> defaults (greedy unless do_sample).</summary>
public static class GenerationDefaults
{
    public static GenerationOptions FromFolder(string folder)
    {
        var options = new GenerationOptions { Temperature = 0 };
        string path = Path.Combine(folder, "generation_config.json");
        if (!File.Exists(path)) return options;
        if (JsonNode.Parse(File.ReadAllText(path)) is not JsonObject c) return options;
        float? F(string key) => c[key] is JsonValue v && v.TryGetValue(out double d) ? (float)d : null;
        bool sample = c["do_sample"] is JsonValue s && s.TryGetValue(out bool b) && b;
        return options with
        {
            Temperature = sample ? F("temperature") ?? 1f : 0f,
            TopP = sample ? F("top_p") ?? 1f : 1f,
            TopK = sample ? (int)(F("top_k") ?? 0) : 0,
            MinP = sample ? F("min_p") ?? 0f : 0f,
            RepetitionPenalty = F("repetition_penalty") ?? 1f,
            MaxNewTokens = (int)(F("max_new_tokens") ?? options.MaxNewTokens),
        };
    }
}
