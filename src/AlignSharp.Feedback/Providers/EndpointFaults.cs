using System.ClientModel;
using System.Text.Json;

namespace AlignSharp.Feedback.Providers;

/// <summary>An answer that came back whole at the HTTP level but cannot be used: no choices, a stream cut before its finish reason.</summary>
public sealed class InvalidAnswerException(string message) : Exception(message);

/// <summary>An attempt that got no complete answer within the provider's <c>timeout_seconds</c>.</summary>
public sealed class AttemptTimeoutException(string message) : Exception(message);

/// <summary>
/// Which failures of an endpoint call are worth another attempt, and how to name them. Transient: 408, 409, 429,
/// 500, 502, 503, 504, a timeout, a refused or dropped connection, and an invalid answer (garbage JSON, no choices,
/// a cut stream) — a healthy replica may answer the same request well. Permanent: any other HTTP status (400 bad
/// request, 401 bad key, 404 wrong URL or model), which the same request would meet again.
/// </summary>
public static class EndpointFaults
{
    /// <summary>HTTP statuses retried.</summary>
    public static bool IsTransientStatus(int status) => status is 408 or 409 or 429 or 500 or 502 or 503 or 504;

    /// <summary>
    /// True when <paramref name="fault"/> may pass on another attempt. Cancellation by the caller is never retried
    /// (the SDK's own network timeout surfaces as a cancellation the caller did not ask for, and is).
    /// </summary>
    public static bool IsTransient(Exception fault, CancellationToken caller) => fault switch
    {
        OperationCanceledException when caller.IsCancellationRequested => false,
        ClientResultException { Status: 0 } => true, // no response at all: connection refused, reset or cut
        ClientResultException e => IsTransientStatus(e.Status),
        FeedbackException => false,
        ArgumentException when fault is not ArgumentOutOfRangeException => false, // our own bad input, not the server's
        _ => true, // timeouts, HttpRequestException, IOException, JsonException, InvalidAnswerException, parse errors in the SDK
    };

    /// <summary>One short phrase for an error line: "HTTP 503", "timeout after 60 s", "connection failed (Connection refused)", "invalid answer (...)".</summary>
    public static string Describe(Exception fault)
    {
        string inner = Innermost(fault).Message;
        return fault switch
        {
            ClientResultException { Status: 0 } => $"connection failed ({inner})",
            ClientResultException e => $"HTTP {e.Status}{ReasonPhrase(e)}",
            AttemptTimeoutException e => e.Message,
            OperationCanceledException => "timeout (the SDK's network timeout)",
            InvalidAnswerException e => $"invalid answer ({e.Message})",
            JsonException => $"invalid answer (not JSON: {First(fault.Message)})",
            HttpRequestException or IOException => $"connection failed ({First(inner)})",
            _ => $"invalid answer ({fault.GetType().Name}: {First(fault.Message)})",
        };
    }

    /// <summary>The fix to print for a permanent HTTP status.</summary>
    public static string FixFor(int status, ChatProviderOptions options) => status switch
    {
        401 or 403 => options.ApiKeyEnv is null
            ? $"the endpoint wants an API key: set {options.RoleName}.api_key_env to the name of a variable holding it"
            : $"the endpoint refused the key in ${options.ApiKeyEnv}; export a valid one",
        404 => $"check {options.RoleName}.endpoint (the base URL ending in /v1) and that the server serves model '{options.Model}'",
        400 or 413 or 422 => "the endpoint refused the request as malformed or too large; check the model's context length and max tokens",
        _ => "check the endpoint's logs",
    };

    /// <summary>The <c>error.message</c> of an OpenAI-shaped error body (first line, at most 160 characters), or null.</summary>
    public static string? ServerMessage(Exception fault)
    {
        try
        {
            var content = (fault as ClientResultException)?.GetRawResponse()?.Content;
            if (content is null || content.ToMemory().Length == 0) return null;
            using var json = JsonDocument.Parse(content.ToMemory());
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String
                ? First(message.GetString() ?? "") : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { return null; }
    }

    static string ReasonPhrase(ClientResultException e)
    {
        string? reason = e.GetRawResponse()?.ReasonPhrase;
        return string.IsNullOrEmpty(reason) ? "" : " " + reason;
    }

    static Exception Innermost(Exception e)
    {
        while (e.InnerException is { } inner) e = inner;
        return e;
    }

    static string First(string message)
    {
        int newline = message.IndexOfAny(['\r', '\n']);
        string line = newline < 0 ? message : message[..newline];
        return line.Length > 160 ? line[..160] + "…" : line;
    }
}
