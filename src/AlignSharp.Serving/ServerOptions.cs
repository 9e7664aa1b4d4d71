using System.Text;

namespace AlignSharp.Serving;

/// <summary>
/// How <see cref="OpenAiCompatibleServer"/> listens and what it accepts. Every limit is answered with OpenAI's error shape
/// (400, 413, 429) instead of queueing or truncating silently.
/// </summary>
public sealed record ServerOptions
{
    /// <summary>Address to listen on: an IP address or "localhost". Loopback by default, so nothing outside the machine reaches it.</summary>
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>TCP port; 0 picks a free ephemeral port (tests, the demo), read back from <see cref="RunningServer.BaseAddress"/>.</summary>
    public int Port { get; init; } = 8000;
    /// <summary>When set, every request needs <c>Authorization: Bearer &lt;ApiKey&gt;</c> (401 otherwise). Never printed.</summary>
    public string? ApiKey { get; init; }
    /// <summary>Largest request body accepted, in bytes (413 above it).</summary>
    public long MaxRequestBytes { get; init; } = 1 << 20;
    /// <summary>Largest max_tokens a request may ask for (400 above it); null: the model's context length.</summary>
    public int? MaxTokens { get; init; }
    /// <summary>Largest n (choices per request) accepted (400 above it).</summary>
    public int MaxN { get; init; } = 16;
    /// <summary>Sequences running or queued at most, over all requests (a request with n choices holds n); past it, 429 with Retry-After.</summary>
    public int MaxPendingSequences { get; init; } = 256;
    /// <summary>Seconds a 429 answer tells the client to wait (Retry-After).</summary>
    public int RetryAfterSeconds { get; init; } = 1;

    /// <summary>Checks every value's range.</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names it.</exception>
    public void Validate()
    {
        static void Require(bool ok, string message) { if (!ok) throw new ArgumentException(message); }
        Require(!string.IsNullOrWhiteSpace(Host), "server host must not be empty");
        Require(Port is >= 0 and <= 65535, $"server port must be in [0, 65535] (0 = any free port; got {Port})");
        Require(ApiKey is null || ApiKey.Length > 0, "server API key must not be empty (leave it unset to serve without a key)");
        Require(MaxRequestBytes is >= 1024 and <= int.MaxValue, $"max request bytes must be in [1024, {int.MaxValue}] (got {MaxRequestBytes})");
        Require(MaxTokens is null or >= 1, $"max tokens must be at least 1 (got {MaxTokens})");
        Require(MaxN >= 1, $"max n must be at least 1 (got {MaxN})");
        Require(MaxPendingSequences >= 1, $"max pending sequences must be at least 1 (got {MaxPendingSequences})");
        Require(RetryAfterSeconds >= 1, $"retry-after must be at least 1 second (got {RetryAfterSeconds})");
    }

    // The generated ToString would print the key; options end up in logs and exception messages.
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"Host = {Host}, Port = {Port}, ApiKey = {(ApiKey is null ? "(none)" : "***")}, MaxRequestBytes = {MaxRequestBytes}, ");
        builder.Append($"MaxTokens = {MaxTokens?.ToString() ?? "(context)"}, MaxN = {MaxN}, MaxPendingSequences = {MaxPendingSequences}, RetryAfterSeconds = {RetryAfterSeconds}");
        return true;
    }
}
