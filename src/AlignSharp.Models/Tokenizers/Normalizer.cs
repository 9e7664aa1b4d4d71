using System.Text;
using System.Text.Json;

namespace AlignSharp.Models.Tokenizers;

/// <summary>The text normalizers byte-level tokenizers use: Unicode normal forms (Qwen2 uses NFC), lowercasing, and sequences of them.</summary>
public abstract class Normalizer
{
    public abstract string Normalize(string text);

    /// <summary>The JSON form Hugging Face writes.</summary>
    internal abstract void Write(Utf8JsonWriter w);

    internal static Normalizer? FromJson(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.Null) return null;
        string type = TokenizerJson.RequireString(e, "type", path);
        switch (type)
        {
            case "NFC": return new UnicodeNormalizer(NormalizationForm.FormC, type);
            case "NFD": return new UnicodeNormalizer(NormalizationForm.FormD, type);
            case "NFKC": return new UnicodeNormalizer(NormalizationForm.FormKC, type);
            case "NFKD": return new UnicodeNormalizer(NormalizationForm.FormKD, type);
            case "Lowercase": return new LowercaseNormalizer();
            case "Sequence":
                var items = TokenizerJson.RequireArray(e, "normalizers", path)
                    .Select((n, i) => TokenizerJson.NotNull(FromJson(n, $"{path}.normalizers[{i}]"), $"{path}.normalizers[{i}]")).ToArray();
                return new SequenceNormalizer(items);
            default:
                throw new TokenizerException($"{path}.type: normalizer '{type}' is not supported (supported: NFC, NFD, NFKC, NFKD, Lowercase, Sequence)");
        }
    }
}

internal sealed class UnicodeNormalizer(NormalizationForm form, string name) : Normalizer
{
    public override string Normalize(string text) => text.IsNormalized(form) ? text : text.Normalize(form);
    internal override void Write(Utf8JsonWriter w) { w.WriteStartObject(); w.WriteString("type", name); w.WriteEndObject(); }
}

internal sealed class LowercaseNormalizer : Normalizer
{
    public override string Normalize(string text) => text.ToLowerInvariant();
    internal override void Write(Utf8JsonWriter w) { w.WriteStartObject(); w.WriteString("type", "Lowercase"); w.WriteEndObject(); }
}

internal sealed class SequenceNormalizer(Normalizer[] items) : Normalizer
{
    public override string Normalize(string text)
    {
        foreach (var n in items) text = n.Normalize(text);
        return text;
    }

    internal override void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject(); w.WriteString("type", "Sequence");
        w.WriteStartArray("normalizers");
        foreach (var n in items) n.Write(w);
        w.WriteEndArray(); w.WriteEndObject();
    }
}
