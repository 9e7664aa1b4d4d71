using System.ClientModel;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Generation;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Models.Transformers;
using OpenAI;
using OpenAI.Chat;

namespace AlignSharp.Serving.Tests;

/// <summary>
/// A tiny random Llama with the Qwen2-style fixture tokenizer and ChatML, served on an ephemeral loopback port. Each test
/// starts its own (a few milliseconds), so limits and counters never leak between tests.
/// </summary>
internal sealed class TinyServer : IAsyncDisposable
{
    public const string ModelId = "tiny-chat";
    private static readonly string TokenizerFolder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers", "qwen2");
    /// <summary>The tests' own instance (encoding is not thread-safe, and test classes run in parallel: <see cref="Prompt"/> locks it); each server loads its own.</summary>
    public static readonly Tokenizer Tokenizer = Tokenizer.Load(TokenizerFolder);
    public static readonly ChatTemplate Template = BuiltInTemplates.Get("chatml");
    public static readonly ChatTemplateOptions TemplateOptions = new() { EosToken = "<|im_end|>" };

    public TransformerModel Model { get; }
    public ContinuousBatcher Batcher { get; }
    public RunningServer Server { get; }
    public HttpClient Http { get; }

    private TinyServer(TransformerModel model, ContinuousBatcher batcher, RunningServer server, string? apiKey)
    {
        Model = model; Batcher = batcher; Server = server;
        Http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null) Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
    }

    /// <param name="context">max_position_embeddings: large for the tests that need a request still running when they act.</param>
    public static async Task<TinyServer> StartAsync(ServerOptions? options = null, int maxBatch = 8, int context = 256)
    {
        var model = CreateModel(context);
        var tokenizer = Tokenizer.Load(TokenizerFolder);
        var batcher = new ContinuousBatcher(model, tokenizer, maxBatch);
        var server = await OpenAiCompatibleServer.StartAsync((options ?? new ServerOptions()) with { Host = "127.0.0.1", Port = 0 },
            batcher, tokenizer, Template, TemplateOptions, ModelId);
        return new TinyServer(model, batcher, server, options?.ApiKey);
    }

    public static TransformerModel CreateModel(int context = 256) =>
        TransformerModel.Create(ModelPresets.Get("tiny", Architecture.Llama) with { VocabSize = Tokenizer.VocabSize, EosTokenIds = [], MaxPositions = context }, seed: 5);

    /// <summary>The OpenAI .NET SDK's chat client on this server.</summary>
    public ChatClient Client(string apiKey = "unused") =>
        new(ModelId, new ApiKeyCredential(apiKey), new OpenAIClientOptions { Endpoint = Server.ApiBase, NetworkTimeout = TimeSpan.FromSeconds(60) });

    /// <summary>The prompt ids the server renders for a single user message (ChatML with the generation prompt).</summary>
    public static int[] Prompt(string user)
    {
        lock (Tokenizer)
            return ChatEncoder.Encode(Tokenizer, Template, [new Microsoft.Extensions.AI.ChatMessage(Microsoft.Extensions.AI.ChatRole.User, user)],
                TemplateOptions with { AddGenerationPrompt = true }).Ids;
    }

    /// <summary>What the model generates alone for <paramref name="user"/>, straight from the generator (no server, no batcher).</summary>
    public GenerationResult Reference(string user, GenerationOptions options) =>
        new Generator(Model, Tokenizer).Generate([Prompt(user)], options with { StopTokenIds = [Tokenizer.TokenToId("<|im_end|>")!.Value] })[0];

    /// <summary>POSTs a raw JSON body to /v1/chat/completions.</summary>
    public Task<HttpResponseMessage> PostAsync(string json, CancellationToken cancellationToken = default) =>
        Http.PostAsync("v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json"), cancellationToken);

    public static string Body(object request) => JsonSerializer.Serialize(request);

    public static async Task<JsonNode> JsonAsync(HttpResponseMessage response) => JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

    /// <summary>Waits until <paramref name="condition"/> holds (polling), failing after <paramref name="seconds"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what, double seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out after {seconds} s waiting for {what}");
            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        Batcher.Dispose();
        Model.Dispose();
    }
}
