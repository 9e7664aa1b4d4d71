namespace AlignSharp.Serving.Protocol;

/// <summary>
/// A request the server refuses, as OpenAI's API answers it: an HTTP status and
/// <c>{"error": {"message", "type", "param", "code"}}</c>. Thrown while a request is read and checked; the endpoint
/// writes it before any byte of the response.
/// </summary>
public sealed class ApiError(int status, string message, string type, string? param = null, string? code = null) : Exception(message)
{
    public int Status { get; } = status;
    /// <summary>OpenAI's error type: "invalid_request_error", "authentication_error", "requests" (rate limit), "server_error".</summary>
    public string Type { get; } = type;
    /// <summary>The request parameter at fault ("max_tokens", "messages[1].content"), or null.</summary>
    public string? Param { get; } = param;
    /// <summary>A machine-readable code ("invalid_api_key", "context_length_exceeded"), or null.</summary>
    public string? Code { get; } = code;

    /// <summary>400 invalid_request_error naming <paramref name="param"/>.</summary>
    public static ApiError Invalid(string? param, string message, string? code = null) => new(400, message, "invalid_request_error", param, code);

    /// <summary>The JSON body.</summary>
    public ErrorResponse Body => new(new ErrorDetail(Message, Type, Param, Code));
}
