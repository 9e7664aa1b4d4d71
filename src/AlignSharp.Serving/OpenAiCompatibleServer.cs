using System.Net;
using System.Text.Json;
using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Generation;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Serving.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AlignSharp.Serving;

/// <summary>
/// A local model behind OpenAI's chat-completions API on Kestrel, so every OpenAI client (the official SDKs, vLLM-style
/// tooling, AlignSharp's own endpoint provider) can use it: POST /v1/chat/completions (JSON or server-sent events),
/// GET /v1/models, GET /health. Requests share the model through its <see cref="ContinuousBatcher"/>. Nothing is logged:
/// not the prompts, and never the API key.
/// </summary>
public static class OpenAiCompatibleServer
{
    /// <summary>Starts serving <paramref name="model"/>; returns once the port is bound. The caller keeps ownership of the model.</summary>
    /// <exception cref="IOException">The address is in use or cannot be bound.</exception>
    /// <exception cref="ArgumentException">An option is out of range, or the host is not an IP address.</exception>
    public static async Task<RunningServer> StartAsync(ServerOptions options, ServedModel model, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var address = ParseHost(options.Host);
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var admission = new Admission(options.MaxPendingSequences);
        var chat = new ChatCompletionsEndpoint(model, options, admission, created);
        var apiKey = options.ApiKey is { } key ? new ApiKeyCheck(key) : null;

        // The empty builder reads no appsettings or ASPNETCORE_* variables: what it serves is what the options say.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // The chat endpoint reads bodies under its own limit, to answer 413 in OpenAI's shape.
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Listen(address, options.Port);
        });
        builder.Services.AddRoutingCore();
        var app = builder.Build();

        if (apiKey is not null) app.Use(async (context, next) =>
        {
            switch (apiKey.Check(context.Request.Headers.Authorization))
            {
                case ApiKeyCheck.Outcome.Accepted: await next(context); return;
                case ApiKeyCheck.Outcome.Missing:
                    context.Response.Headers.WWWAuthenticate = "Bearer";
                    await HttpBodies.WriteErrorAsync(context.Response, new ApiError(401, "You didn't provide an API key. You need to provide your API key in an " +
                        "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", "invalid_request_error"));
                    return;
                default:
                    context.Response.Headers.WWWAuthenticate = "Bearer";
                    await HttpBodies.WriteErrorAsync(context.Response, new ApiError(401, "Incorrect API key provided.", "invalid_request_error", null, "invalid_api_key"));
                    return;
            }
        });

        var card = new ModelCard(model.ModelId, "model", created, "alignsharp");
        app.MapPost("/v1/chat/completions", chat.HandleAsync);
        app.MapGet("/v1/models", context => WriteJsonAsync(context, new ModelList("list", [card]), ServingJson.Default.ModelList));
        app.MapGet("/v1/models/{id}", context => (string?)context.Request.RouteValues["id"] == model.ModelId
            ? WriteJsonAsync(context, card, ServingJson.Default.ModelCard)
            : HttpBodies.WriteErrorAsync(context.Response, new ApiError(404, $"The model `{context.Request.RouteValues["id"]}` does not exist.", "invalid_request_error", "model", "model_not_found")));
        app.MapGet("/health", context => WriteJsonAsync(context, new HealthStatus("ok", model.ModelId, model.Batcher.Running, model.Batcher.Waiting), ServingJson.Default.HealthStatus));
        app.MapFallback(context => HttpBodies.WriteErrorAsync(context.Response,
            new ApiError(404, $"Unknown request URL: {context.Request.Method} {context.Request.Path}.", "invalid_request_error", null, "unknown_url")));

        try { await app.StartAsync(cancellationToken); }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            await app.DisposeAsync();
            bool inUse = e is Microsoft.AspNetCore.Connections.AddressInUseException || e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException;
            throw new IOException(inUse
                ? $"cannot listen on {options.Host}:{options.Port}: the port is already in use (choose another port, or 0 for any free one)"
                : $"cannot listen on {options.Host}:{options.Port}: {e.Message}", e);
        }
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new RunningServer(app, new Uri(bound.TrimEnd('/') + "/"), model, admission);
    }

    /// <summary>Starts serving a batcher with the tokenizer and chat template that render its prompts; see <see cref="ServedModel"/>.</summary>
    public static Task<RunningServer> StartAsync(ServerOptions options, ContinuousBatcher batcher, Tokenizer tokenizer, ChatTemplate template,
        ChatTemplateOptions? templateOptions, string modelId, CancellationToken cancellationToken = default) =>
        StartAsync(options, new ServedModel(batcher, tokenizer, template, templateOptions, modelId), cancellationToken);

    private static IPAddress ParseHost(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
        : IPAddress.TryParse(host.Trim('[', ']'), out var ip) ? ip
        : throw new ArgumentException($"server host '{host}' is not an IP address or localhost (e.g. 127.0.0.1, 0.0.0.0, ::1)");

    private static Task WriteJsonAsync<T>(HttpContext context, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        context.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(context.Response.Body, value, type);
    }
}
