using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AlignSharp.Models.Tokenizers;

/// <summary>
/// tokenizer_config.json: the chat template and the names of the special tokens. <c>chat_template</c> may be a
/// string or a list of {name, template} (the one named "default" is used); token entries may be strings or
/// {"content": ...} objects. Unknown keys are kept when the file is rewritten.
/// </summary>
public sealed class TokenizerConfig
{
    public string? ChatTemplate { get; set; }
    public IReadOnlyDictionary<string, string> NamedChatTemplates { get; set; } = new Dictionary<string, string>();
    public string? BosToken { get; set; }
    public string? EosToken { get; set; }
    public string? PadToken { get; set; }
    public string? UnkToken { get; set; }
    public int? ModelMaxLength { get; set; }
    private JsonObject _extra = new();

    /// <summary>Reads tokenizer_config.json from a folder (or the file itself); a missing file gives an empty config.</summary>
    public static TokenizerConfig Load(string path)
    {
        string file = Directory.Exists(path) ? Path.Combine(path, "tokenizer_config.json") : path;
        if (!File.Exists(file)) return new TokenizerConfig();
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(file), documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }); }
        catch (JsonException e) { throw new TokenizerException($"{file}: not valid JSON at line {e.LineNumber + 1}: {e.Message}"); }
        if (root is not JsonObject obj) throw new TokenizerException($"{file}: expected a JSON object");
        try { return Read(obj, file); }
        catch (InvalidOperationException)
        {
            // JsonValue throws this for a string holding an unpaired surrogate escape, or a value of another kind.
            throw new TokenizerException($"{file}: a value has the wrong type or a string holds an unpaired UTF-16 surrogate escape (\\ud800-\\udfff)");
        }
    }

    private static TokenizerConfig Read(JsonObject obj, string file)
    {
        var config = new TokenizerConfig { _extra = obj };
        config.BosToken = TokenName(obj, "bos_token", file);
        config.EosToken = TokenName(obj, "eos_token", file);
        config.PadToken = TokenName(obj, "pad_token", file);
        config.UnkToken = TokenName(obj, "unk_token", file);
        if (obj["model_max_length"] is JsonValue m && m.TryGetValue(out double max) && max < int.MaxValue) config.ModelMaxLength = (int)max;
        switch (obj["chat_template"])
        {
            case null: break;
            case JsonValue v when v.TryGetValue(out string? s): config.ChatTemplate = s; break;
            case JsonArray list:
                var named = new Dictionary<string, string>();
                for (int i = 0; i < list.Count; i++)
                {
                    if (list[i] is not JsonObject entry || entry["name"]?.GetValue<string>() is not { } name || entry["template"]?.GetValue<string>() is not { } template)
                        throw new TokenizerException($"{file}: chat_template[{i}]: expected {{\"name\": ..., \"template\": ...}}");
                    named[name] = template;
                }
                config.NamedChatTemplates = named;
                config.ChatTemplate = named.GetValueOrDefault("default");
                break;
            default: throw new TokenizerException($"{file}: chat_template: expected a string or a list of {{name, template}}");
        }
        return config;
    }

    private static string? TokenName(JsonObject obj, string key, string file) => obj[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out string? s) => s,
        JsonObject o when o["content"] is JsonValue c && c.TryGetValue(out string? s) => s,
        var other => throw new TokenizerException($"{file}: {key}: expected a string or {{\"content\": ...}}, found {other.ToJsonString()}"),
    };

    /// <summary>Writes tokenizer_config.json beside the tokenizer, in the shape transformers' AutoTokenizer loads.</summary>
    public void Save(string directory, Tokenizer tokenizer)
    {
        var obj = (JsonObject)_extra.DeepClone();
        obj["tokenizer_class"] ??= "PreTrainedTokenizerFast";
        var decoder = new JsonObject();
        foreach (var t in tokenizer.AddedTokens.OrderBy(t => t.Id))
            decoder[t.Id.ToString()] = new JsonObject
            {
                ["content"] = t.Content, ["lstrip"] = t.LStrip, ["normalized"] = t.Normalized,
                ["rstrip"] = t.RStrip, ["single_word"] = t.SingleWord, ["special"] = t.Special,
            };
        obj["added_tokens_decoder"] = decoder;
        void Set(string key, string? value) { if (value is not null) obj[key] = value; }
        Set("bos_token", BosToken); Set("eos_token", EosToken); Set("pad_token", PadToken); Set("unk_token", UnkToken);
        if (ModelMaxLength is { } max) obj["model_max_length"] = max;
        if (ChatTemplate is not null) obj["chat_template"] = ChatTemplate;
        obj["clean_up_tokenization_spaces"] ??= false;
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"),
            obj.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
    }
}
