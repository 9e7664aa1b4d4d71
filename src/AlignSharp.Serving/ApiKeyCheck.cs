using System.Security.Cryptography;
using System.Text;

namespace AlignSharp.Serving;

/// <summary>
/// Checks <c>Authorization: Bearer KEY</c> against the server's key without leaking it through timing: both sides are
/// hashed (SHA-256) and the digests compared in constant time, so neither the key's bytes nor its length show in how long
/// a wrong guess takes. The key itself is kept only as its digest.
/// </summary>
internal sealed class ApiKeyCheck(string key)
{
    private readonly byte[] _digest = SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>The result of reading the header.</summary>
    public enum Outcome { Accepted, Missing, Wrong }

    public Outcome Check(string? authorization)
    {
        const string scheme = "Bearer ";
        if (string.IsNullOrEmpty(authorization) || !authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return Outcome.Missing;
        var given = SHA256.HashData(Encoding.UTF8.GetBytes(authorization[scheme.Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(given, _digest) ? Outcome.Accepted : Outcome.Wrong;
    }
}
