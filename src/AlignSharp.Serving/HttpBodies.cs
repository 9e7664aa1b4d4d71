using System.Text.Json;
using AlignSharp.Serving.Protocol;
using Microsoft.AspNetCore.Http;

namespace AlignSharp.Serving;

/// <summary>Reading a request body under the size limit, and writing OpenAI's error shape.</summary>
internal static class HttpBodies
{
    /// <summary>
    /// The whole body, or 413 when it is larger than <paramref name="limit"/> bytes: refused from Content-Length before
    /// reading when the client declares it, else as soon as the bytes read pass the limit (a chunked body).
    /// </summary>
    public static async Task<ReadOnlyMemory<byte>> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit) throw TooLarge(request.ContentLength.Value, limit);
        using var buffer = new MemoryStream(request.ContentLength is { } n ? (int)n : 4096);
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit) throw TooLarge(null, limit);
            buffer.Write(chunk, 0, read);
        }
        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    private static ApiError TooLarge(long? size, long limit) => new(413,
        $"Request too large: the body {(size is { } s ? $"is {s} bytes" : "passes the limit")}; this server accepts at most {limit} bytes (--max-request-bytes).",
        "invalid_request_error", null, "request_too_large");

    public static async Task WriteErrorAsync(HttpResponse response, ApiError error)
    {
        response.StatusCode = error.Status;
        response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(response.Body, error.Body, ServingJson.Default.ErrorResponse);
    }
}
