using System.Text.Json;
using System.Text.Json.Nodes;
using AlignSharp.Models.Transformers;

namespace AlignSharp.Models.Generation;

/// <summary>Reads a model folder's generation_config.json into <see cref="GenerationOptions"/> defaults (greedy unless do_sample).</summary>
public static class GenerationDefaults
{
    /// <summary>The folder's defaults; without generation_config.json, greedy with the default max_new_tokens.</summary>
    /// <exception cref="ModelFormatException">The file is not a JSON object, or a key has the wrong type or range; the message names the file and key.</exception>
    public static GenerationOptions FromFolder(string folder)
    {
        var options = new GenerationOptions { Temperature = 0 };
        string path = Path.Combine(folder, "generation_config.json");
        if (!File.Exists(path)) return options;
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }); }
        catch (JsonException e) { throw new ModelFormatException($"{path}: not valid JSON at line {e.LineNumber + 1}: {e.Message}"); }
        if (root is not JsonObject c) throw new ModelFormatException($"{path}: expected a JSON object");

        // A null value means "not set", as transformers writes it.
        float? F(string key) => c[key] switch
        {
            null => null,
            JsonValue v when v.TryGetValue(out double d) => (float)d,
            var other => throw new ModelFormatException($"{path}: {key}: expected a number, found {ModelConfig.Show(other)}"),
        };
        int? I(string key) => c[key] switch
        {
            null => null,
            JsonValue v when v.TryGetValue(out int i) => i,
            JsonValue v when v.TryGetValue(out double d) && d == Math.Floor(d) && Math.Abs(d) < int.MaxValue => (int)d,
            var other => throw new ModelFormatException($"{path}: {key}: expected an integer, found {ModelConfig.Show(other)}"),
        };
        bool sample = c["do_sample"] switch
        {
            null => false,
            JsonValue v when v.TryGetValue(out bool b) => b,
            var other => throw new ModelFormatException($"{path}: do_sample: expected true or false, found {ModelConfig.Show(other)}"),
        };
        // Every value given is checked, also those that greedy decoding ignores, so a bad file is found at once.
        var given = options with
        {
            Temperature = F("temperature") ?? 1f,
            TopP = F("top_p") ?? 1f,
            TopK = I("top_k") ?? 0,
            MinP = F("min_p") ?? 0f,
            RepetitionPenalty = F("repetition_penalty") ?? 1f,
            MaxNewTokens = I("max_new_tokens") ?? options.MaxNewTokens,
        };
        try { given.Validate(); }
        catch (GenerationOptionException e) { throw new ModelFormatException($"{path}: {e.Message}"); }
        return given with
        {
            Temperature = sample ? given.Temperature : 0f,
            TopP = sample ? given.TopP : 1f,
            TopK = sample ? given.TopK : 0,
            MinP = sample ? given.MinP : 0f,
        };
    }
}
