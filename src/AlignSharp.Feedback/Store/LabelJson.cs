using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AlignSharp.Feedback.Store;

/// <summary>
/// The JSON forms of what the store keeps beside a label: its <see cref="Provenance"/> (snake_case keys, the kind in
/// lower case, nested inputs, null fields left out) and its parts, and the line of a <c>labels</c> export:
/// <code>
/// {"key": ..., "fingerprint": ..., "source": ..., "prompt": {"id", "messages", "category", "metadata"},
///  "response": ..., "score": 0.75 | null, "rationale": ... | null, "provenance": {...} | null, "parts": {...} | null,
///  "created_at": "2025-01-31T12:00:00.0000000+00:00"}
/// </code>
/// A null score means the source does not apply to the item (stored too, so it is not asked again); a null score with
/// <c>"unparsable": true</c>, a rationale and a provenance is a judge answer that could not be read (kept for the same reason).
/// </summary>
public static class LabelJson
{
    /// <summary>Options for <see cref="Provenance"/> and parts: snake_case, lower-case enums, nulls left out, minimal escaping.</summary>
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false) },
        Encoder = MinimalJsonEncoder.Instance,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,  // a provenance without "source" or "kind" is refused, not defaulted
    };

    /// <summary>The provenance as compact JSON.</summary>
    public static string Serialize(Provenance provenance) => JsonSerializer.Serialize(provenance, Options);

    /// <summary>Parts as a compact JSON object (in their order).</summary>
    public static string Serialize(IReadOnlyDictionary<string, double> parts) => JsonSerializer.Serialize(parts, Options);

    /// <summary>Reads a provenance written by <see cref="Serialize(Provenance)"/>; <paramref name="origin"/> names the place in errors.</summary>
    public static Provenance ParseProvenance(string json, string origin)
    {
        try { return JsonSerializer.Deserialize<Provenance>(json, Options) ?? throw new JsonException("null"); }
        catch (JsonException e) { throw new FeedbackException($"{origin}: provenance is not valid ({e.Message.Split(" Path:")[0]})"); }
    }

    /// <summary>Reads parts written by <see cref="Serialize(IReadOnlyDictionary{string, double})"/>.</summary>
    public static IReadOnlyDictionary<string, double> ParseParts(string json, string origin)
    {
        try { return JsonSerializer.Deserialize<Dictionary<string, double>>(json, Options) ?? throw new JsonException("null"); }
        catch (JsonException e) { throw new FeedbackException($"{origin}: parts must be an object of numbers ({e.Message.Split(" Path:")[0]})"); }
    }

    /// <summary>Writes one label as the object of a <c>labels</c> export line.</summary>
    public static void Write(Utf8JsonWriter writer, StoredLabel label)
    {
        writer.WriteStartObject();
        writer.WriteString("key", label.Key);
        writer.WriteString("fingerprint", label.Fingerprint);
        writer.WriteString("source", label.Source);
        writer.WritePropertyName("prompt");
        PromptJson.Write(writer, label.Prompt);
        writer.WriteString("response", label.Response);
        if (label.Label is { Unparsable: true } u)
        {
            // An unparsable judge answer: no score, the raw answer and provenance kept, flagged (the key is written only here,
            // so exports of stores without unparsable labels are unchanged).
            writer.WriteNull("score");
            writer.WriteBoolean("unparsable", true);
            writer.WriteString("rationale", u.Rationale);
            writer.WritePropertyName("provenance");
            writer.WriteRawValue(Serialize(u.Provenance), skipInputValidation: true);
            writer.WriteNull("parts");
        }
        else if (label.Label is { } l)
        {
            writer.WriteNumber("score", l.Score);
            writer.WriteString("rationale", l.Rationale);
            writer.WritePropertyName("provenance");
            writer.WriteRawValue(Serialize(l.Provenance), skipInputValidation: true);
            writer.WritePropertyName("parts");
            if (l.Parts is null) writer.WriteNullValue();
            else writer.WriteRawValue(Serialize(l.Parts), skipInputValidation: true);
        }
        else
        {
            writer.WriteNull("score");
            writer.WriteNull("rationale");
            writer.WriteNull("provenance");
            writer.WriteNull("parts");
        }
        writer.WriteString("created_at", Timestamp(label.CreatedAt));
        writer.WriteEndObject();
    }

    /// <summary>
    /// Reads one <c>labels</c> line; <paramref name="origin"/> (<c>file:line</c>) names the place in errors. A missing
    /// key is computed; a key that does not match the fingerprint, prompt and response is refused (the line was edited).
    /// </summary>
    /// <exception cref="FeedbackException">A field is missing or of the wrong type, or the key does not match.</exception>
    public static StoredLabel Read(JsonElement line, string origin)
    {
        if (line.ValueKind != JsonValueKind.Object) throw new FeedbackException($"{origin}: each line must hold one JSON object");
        string fingerprint = String(line, "fingerprint", origin) ?? throw Missing("fingerprint", origin);
        string source = String(line, "source", origin) ?? throw Missing("source", origin);
        if (!line.TryGetProperty("prompt", out var promptElement)) throw Missing("prompt", origin);
        var prompt = PromptJson.Read(promptElement, origin);
        string response = String(line, "response", origin) ?? throw Missing("response", origin);
        string key = LabelKey.Of(fingerprint, prompt, response);
        if (String(line, "key", origin) is { } given && given != key)
            throw new FeedbackException($"{origin}: \"key\" does not match the fingerprint, prompt and response (was the line edited?); remove \"key\" to have it recomputed");
        string createdText = String(line, "created_at", origin) ?? throw Missing("created_at", origin);
        if (!DateTimeOffset.TryParseExact(createdText, "O", CultureInfo.InvariantCulture, DateTimeStyles.None, out var createdAt))
            throw new FeedbackException($"{origin}: \"created_at\" must be an ISO 8601 time such as 2025-01-31T12:00:00.0000000+00:00 (got \"{createdText}\")");
        FeedbackLabel? label = null;
        bool unparsable = line.TryGetProperty("unparsable", out var flag) && (flag.ValueKind == JsonValueKind.True ? true
            : flag.ValueKind is JsonValueKind.False or JsonValueKind.Null ? false
            : throw new FeedbackException($"{origin}: \"unparsable\" must be true or false (got {flag.GetRawText()})"));
        if (unparsable)
        {
            if (line.TryGetProperty("score", out var s) && s.ValueKind != JsonValueKind.Null)
                throw new FeedbackException($"{origin}: an unparsable label has no score; give \"score\": null or remove \"unparsable\"");
            string rationale = String(line, "rationale", origin) ?? throw Missing("rationale", origin);
            if (!line.TryGetProperty("provenance", out var provenance) || provenance.ValueKind != JsonValueKind.Object)
                throw new FeedbackException($"{origin}: an unparsable label needs its \"provenance\" object");
            label = new FeedbackLabel(0, rationale, ParseProvenance(provenance.GetRawText(), origin), null, Unparsable: true);
        }
        else if (line.TryGetProperty("score", out var score) && score.ValueKind != JsonValueKind.Null)
        {
            if (score.ValueKind != JsonValueKind.Number || !score.TryGetDouble(out double value) || !double.IsFinite(value))
                throw new FeedbackException($"{origin}: \"score\" must be a finite number or null (got {score.GetRawText()})");
            string rationale = String(line, "rationale", origin) ?? throw Missing("rationale", origin);
            if (!line.TryGetProperty("provenance", out var provenance) || provenance.ValueKind != JsonValueKind.Object)
                throw new FeedbackException($"{origin}: a label with a score needs its \"provenance\" object");
            IReadOnlyDictionary<string, double>? parts = line.TryGetProperty("parts", out var p) && p.ValueKind != JsonValueKind.Null
                ? ParseParts(p.GetRawText(), origin) : null;
            label = new FeedbackLabel(value, rationale, ParseProvenance(provenance.GetRawText(), origin), parts);
        }
        return new StoredLabel(key, fingerprint, source, prompt, response, label, createdAt);
    }

    /// <summary>Round-trip ISO 8601 text of a time ("O" format).</summary>
    public static string Timestamp(DateTimeOffset time) => time.ToString("O", CultureInfo.InvariantCulture);

    static string? String(JsonElement obj, string key, string origin)
    {
        if (!obj.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw new FeedbackException($"{origin}: \"{key}\" must be a string");
    }

    static FeedbackException Missing(string key, string origin) => new($"{origin}: \"{key}\" is missing; a labels line needs key, fingerprint, source, prompt, response, score and created_at");
}
