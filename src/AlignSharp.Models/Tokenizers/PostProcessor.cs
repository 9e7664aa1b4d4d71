using System.Text.Json;

namespace AlignSharp.Models.Tokenizers;

/// <summary>
/// Adds special tokens around an encoded sequence when <c>add_special_tokens</c> is on: TemplateProcessing
/// (Llama-3's BOS), ByteLevel (offsets only, ids unchanged) and Sequence of those.
/// </summary>
public abstract class PostProcessor
{
    /// <summary>Tokens to put before and after a single sequence.</summary>
    internal abstract void Single(List<int> before, List<int> after);

    internal abstract void Write(Utf8JsonWriter w);

    internal static PostProcessor? FromJson(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.Null) return null;
        string type = TokenizerJson.RequireString(e, "type", path);
        return type switch
        {
            "ByteLevel" => new ByteLevelPostProcessor(e.GetRawText()),
            "TemplateProcessing" => TemplateProcessing.FromJson(e, path),
            "Sequence" => new SequencePostProcessor(TokenizerJson.RequireArray(e, "processors", path)
                .Select((p, i) => TokenizerJson.NotNull(FromJson(p, $"{path}.processors[{i}]"), $"{path}.processors[{i}]")).ToArray()),
            _ => throw new TokenizerException($"{path}.type: post-processor '{type}' is not supported (supported: ByteLevel, TemplateProcessing, Sequence)"),
        };
    }
}

internal sealed class ByteLevelPostProcessor(string json) : PostProcessor
{
    internal override void Single(List<int> before, List<int> after) { }
    internal override void Write(Utf8JsonWriter w) => JsonDocument.Parse(json).RootElement.WriteTo(w);
}

/// <summary>Hugging Face's TemplateProcessing for single sequences: <c>single</c> lists SpecialToken entries around Sequence A.</summary>
internal sealed class TemplateProcessing(int[] before, int[] after, string json) : PostProcessor
{
    internal override void Single(List<int> b, List<int> a) { b.AddRange(before); a.AddRange(after); }
    internal override void Write(Utf8JsonWriter w) => JsonDocument.Parse(json).RootElement.WriteTo(w);

    public static new TemplateProcessing FromJson(JsonElement e, string path)
    {
        var specials = TokenizerJson.Require(e, "special_tokens", path);
        var before = new List<int>(); var after = new List<int>();
        bool seenSequence = false;
        int i = 0;
        foreach (var item in TokenizerJson.RequireArray(e, "single", path))
        {
            string itemPath = $"{path}.single[{i++}]";
            if (TokenizerJson.Optional(item, "Sequence") is not null) { seenSequence = true; continue; }
            var special = TokenizerJson.Optional(item, "SpecialToken") ?? throw new TokenizerException($"{itemPath}: expected SpecialToken or Sequence");
            string name = TokenizerJson.RequireString(special, "id", itemPath + ".SpecialToken");
            var entry = TokenizerJson.Optional(specials, name) ?? throw new TokenizerException($"{path}.special_tokens: '{name}' used in single is not defined");
            var ids = TokenizerJson.RequireArray(entry, "ids", $"{path}.special_tokens.{name}").Select(x => TokenizerJson.Int32Value(x, $"{path}.special_tokens.{name}.ids"));
            (seenSequence ? after : before).AddRange(ids);
        }
        return new TemplateProcessing(before.ToArray(), after.ToArray(), e.GetRawText());
    }
}

internal sealed class SequencePostProcessor(PostProcessor[] items) : PostProcessor
{
    internal override void Single(List<int> before, List<int> after)
    {
        foreach (var p in items) p.Single(before, after);
    }

    internal override void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject(); w.WriteString("type", "Sequence");
        w.WriteStartArray("processors");
        foreach (var p in items) p.Write(w);
        w.WriteEndArray(); w.WriteEndObject();
    }
}
