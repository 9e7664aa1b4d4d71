using System.ClientModel;
using System.ClientModel.Primitives;
using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Generation;
using AlignSharp.Models.Lora;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Models.Transformers;
using Microsoft.Extensions.AI;
using OpenAI;

namespace AlignSharp.Feedback.Providers;

/// <summary>
/// Builds a role's <see cref="IChatClient"/> from its <see cref="ChatProviderOptions"/>: an OpenAI-compatible endpoint
/// (Microsoft.Extensions.AI.OpenAI over the official OpenAI SDK, wrapped for log-probs and resilience) or a local model
/// folder (<see cref="LocalChatClient"/>). Whatever the provider, callers (judges, samplers, red-teamers) see one interface.
/// </summary>
public static class ChatProviders
{
    /// <summary>
    /// The client for <paramref name="options"/>. For an endpoint the API key is read here, from the variable named by
    /// <c>api_key_env</c>, and sent as <c>Authorization: Bearer KEY</c>; it lives only inside the SDK's credential.
    /// </summary>
    /// <param name="options">The role's provider block.</param>
    /// <param name="handler">The HTTP handler to send through (tests, benchmarks); by default a pooled <see cref="SocketsHttpHandler"/> sized for max_concurrency.</param>
    public static IChatClient Create(ChatProviderOptions options, HttpMessageHandler? handler = null) => options.Kind switch
    {
        ProviderKind.Endpoint => CreateEndpoint(options, handler),
        _ => CreateLocal(options),
    };

    static IChatClient CreateEndpoint(ChatProviderOptions options, HttpMessageHandler? handler)
    {
        string? key = null;
        if (options.ApiKeyEnv is { } variable)
        {
            key = Environment.GetEnvironmentVariable(variable);
            if (string.IsNullOrEmpty(key))
                throw new FeedbackException($"{options.Source}: {options.RoleName}.api_key_env: environment variable {variable} is not set; export it or remove the key");
        }
        var http = new HttpClient(handler ?? new SocketsHttpHandler
        {
            // One connection per request in flight (HTTP/1.1 has no multiplexing); idle ones are kept for reuse.
            MaxConnectionsPerServer = Math.Max(options.MaxConcurrency, 2),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(Math.Min(options.TimeoutSeconds, 30)),
        }, disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan, // the attempt timeout is the resilient client's
        };
        var sdkOptions = new OpenAIClientOptions
        {
            Endpoint = options.Endpoint,
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0), // no SDK retries: ResilientChatClient does them, with Retry-After and a clear final error
            // A little over the attempt timeout, so the resilient client's (clearer) timeout fires first.
            NetworkTimeout = TimeSpan.FromSeconds(options.TimeoutSeconds + 5),
        };
        var sdk = new OpenAI.Chat.ChatClient(options.Model, new ApiKeyCredential(key ?? "unused"), sdkOptions);
        Func<string, string> redact = key is null ? (s => s) : (s => s.Replace(key, "***", StringComparison.Ordinal));
        return new ResilientChatClient(new EndpointLogprobsChatClient(sdk.AsIChatClient()), options, owned: http, redact: redact);
    }

    static LocalChatClient CreateLocal(ChatProviderOptions options)
    {
        string where = $"{options.Source}: {options.RoleName}";
        if (!Directory.Exists(options.Model))
            throw new FeedbackException($"{where}.model: folder {options.Model} not found; give a Hugging Face model folder, or {options.RoleName}.endpoint for a served model");
        if (options.Adapter is not null && !Directory.Exists(options.Adapter))
            throw new FeedbackException($"{where}.adapter: folder {options.Adapter} not found; give a PEFT LoRA adapter folder or remove the key");
        // Base + adapter folded into one model; tokenizer and chat template from the adapter's folder when training wrote them there.
        return LocalChatClient.FromFolder(options.Model, options.Adapter, options.MaxBatch);
    }
}
