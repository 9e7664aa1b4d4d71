using System.Security.Cryptography;
using System.Text.Json;

namespace AlignSharp.Feedback.Store;

/// <summary>
/// Content hashes that key pairwise verdicts in the feedback store. A verdict's key is the SHA-256 of (judge
/// fingerprint, prompt content, response shown first, response shown second): the order the responses were shown in
/// is part of the question, so both orders of a pair are two verdicts. A pair's key hashes the two responses in
/// ordinal order instead, so both orders share it (position-bias statistics join on it).
/// </summary>
public static class VerdictKey
{
    /// <summary>The verdict key: 64 hex digits of SHA-256 over [fingerprint, prompt content, first, second].</summary>
    public static string Of(string fingerprint, PromptRecord prompt, string first, string second) =>
        Hash(fingerprint, PromptJson.Canonical(prompt), first, second);

    /// <summary>The pair key: as <see cref="Of"/> with the two responses sorted, so it does not depend on their order.</summary>
    public static string Pair(string fingerprint, PromptRecord prompt, string a, string b) =>
        string.CompareOrdinal(a, b) <= 0 ? Hash("pair:" + fingerprint, PromptJson.Canonical(prompt), a, b) : Hash("pair:" + fingerprint, PromptJson.Canonical(prompt), b, a);

    static string Hash(string fingerprint, string canonicalPrompt, string first, string second)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, PromptJson.WriterOptions))
        {
            w.WriteStartArray();
            w.WriteStringValue(fingerprint);
            w.WriteRawValue(canonicalPrompt, skipInputValidation: true);
            w.WriteStringValue(first);
            w.WriteStringValue(second);
            w.WriteEndArray();
        }
        return Convert.ToHexStringLower(SHA256.HashData(stream.GetBuffer().AsSpan(0, (int)stream.Length)));
    }
}
