using System.Security.Cryptography;
using System.Text.Json;

namespace AlignSharp.Feedback.Store;

/// <summary>
/// Content hashes that key the feedback store. A label's key is the SHA-256 of (source fingerprint, prompt content,
/// response): equal fingerprints score equal items equally, so the key names the label before it is computed. An
/// item's key is the SHA-256 of (prompt content, response) alone, shared by the labels of every source on that
/// item (agreement between sources) and by its generations. Prompt content is <see cref="PromptJson.Canonical"/>:
/// messages, category and metadata, not the id.
/// </summary>
public static class LabelKey
{
    /// <summary>The label key: 64 hex digits of SHA-256 over the JSON array [fingerprint, prompt content, response].</summary>
    public static string Of(string fingerprint, PromptRecord prompt, string response) => Of(fingerprint, PromptJson.Canonical(prompt), response);

    /// <summary><see cref="Of(string, PromptRecord, string)"/> with the prompt already in its canonical form.</summary>
    public static string Of(string fingerprint, string canonicalPrompt, string response) =>
        Hash(w => { w.WriteStartArray(); w.WriteStringValue(fingerprint); w.WriteRawValue(canonicalPrompt, skipInputValidation: true); w.WriteStringValue(response); w.WriteEndArray(); });

    /// <summary>The item key: 64 hex digits of SHA-256 over the JSON array [prompt content, response].</summary>
    public static string Item(PromptRecord prompt, string response) => Item(PromptJson.Canonical(prompt), response);

    /// <summary><see cref="Item(PromptRecord, string)"/> with the prompt already in its canonical form.</summary>
    public static string Item(string canonicalPrompt, string response) =>
        Hash(w => { w.WriteStartArray(); w.WriteRawValue(canonicalPrompt, skipInputValidation: true); w.WriteStringValue(response); w.WriteEndArray(); });

    static string Hash(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, PromptJson.WriterOptions)) write(writer);
        return Convert.ToHexStringLower(SHA256.HashData(stream.GetBuffer().AsSpan(0, (int)stream.Length)));
    }
}
