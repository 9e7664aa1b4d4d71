using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AlignSharp.Feedback.Tests.Providers;

/// <summary>What the fault server does to one request instead of answering it.</summary>
public enum Fault
{
    /// <summary>Answers normally.</summary>
    None,
    /// <summary>Sends the status, headers and the body's first bytes, then nothing until the client gives up (or <see cref="FaultServer.HangFor"/> passes).</summary>
    Hang,
    /// <summary>429 with <c>Retry-After: </c><see cref="FaultServer.RetryAfterHeader"/>.</summary>
    TooManyRequests,
    /// <summary>500 with an OpenAI-shaped error body.</summary>
    InternalError,
    /// <summary>503 with an OpenAI-shaped error body.</summary>
    Unavailable,
    /// <summary>200 with a body that is not JSON.</summary>
    GarbageJson,
    /// <summary>200 with a chat.completion object that has no <c>choices</c>.</summary>
    NoChoices,
    /// <summary>The answer's first half (or first SSE chunk), then the connection is aborted.</summary>
    CutStream,
    /// <summary>The answer after <see cref="FaultServer.SlowFirstByte"/>.</summary>
    SlowFirstByte,
    /// <summary>401 whose error body echoes the Authorization header it got (as some servers do).</summary>
    Unauthorized,
}

/// <summary>
/// An OpenAI-shaped chat-completions server on Kestrel (127.0.0.1, a free port) that injects faults: a script of
/// <see cref="Fault"/>s taken one per request in arrival order, or a per-request rule (<see cref="Rule"/>) given the
/// request's key and how many times that request came before. Otherwise it answers deterministically from the request:
/// "Score: N" with N in 1..5 from the SHA-256 of the messages, optionally with token log-probs and as a stream.
/// It counts, per distinct request (the messages' JSON), the complete 200 answers it sent — a client that repeats a
/// call it already got an answer to shows up as a count above 1.
/// </summary>
sealed class FaultServer : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly ConcurrentQueue<Fault> _script = new();
    readonly ConcurrentDictionary<string, int> _answers = new(), _arrivals = new();
    int _requests, _answered, _admitted, _inFlight, _maxInFlight;

    FaultServer(WebApplication app) => _app = app;

    /// <summary>The base URL a client is given: http://127.0.0.1:PORT/v1.</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>A rule consulted when the script is empty: (request key, earlier arrivals of that request) → fault.</summary>
    public Func<string, int, Fault>? Rule { get; set; }

    /// <summary>Every request gets 503 (an endpoint that is down) while set.</summary>
    public bool Down { get; set; }

    /// <summary>After this many requests admitted (answered) the server is <see cref="Down"/>; null = never. Set it before any request.</summary>
    public int? DownAfterAnswers { get; set; }

    public string RetryAfterHeader { get; set; } = "1";
    public TimeSpan HangFor { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan SlowFirstByte { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Requests received (every attempt).</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>The most requests the server was handling at once.</summary>
    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    /// <summary>Complete 200 answers sent.</summary>
    public int Answered => Volatile.Read(ref _answered);

    /// <summary>Complete answers per distinct request.</summary>
    public IReadOnlyDictionary<string, int> AnswersPerRequest => _answers;

    /// <summary>The Authorization header of the latest request.</summary>
    public string? LastAuthorization { get; private set; }

    /// <summary>The latest request's JSON body.</summary>
    public string? LastBody { get; private set; }

    /// <summary>When each request arrived (for Retry-After timing).</summary>
    public ConcurrentQueue<DateTimeOffset> Arrivals { get; } = new();

    /// <summary>Queues faults for the next requests, in arrival order.</summary>
    public void Script(params Fault[] faults) { foreach (var f in faults) _script.Enqueue(f); }

    /// <summary>
    /// A server on a free loopback port. The first start in a process also sends one plain, one streamed and one
    /// log-prob request through the provider client to a server of its own, untimed: with quick JIT off the first call
    /// compiles the SDK, System.Text.Json and Kestrel's pipeline, seconds on a loaded 2-core machine, which a test's
    /// attempt timeout would otherwise take for a hang (and retry a healthy answer).
    /// </summary>
    public static async Task<FaultServer> StartAsync()
    {
        await Warm.Value;
        return await StartCoreAsync();
    }

    static readonly Lazy<Task> Warm = new(async () =>
    {
        await using var server = await StartCoreAsync();
        using var client = AlignSharp.Feedback.Providers.ChatProviders.Create(EndpointTestKit.Judge(server, timeoutSeconds: 600));
        await client.GetResponseAsync(EndpointTestKit.Question);
        await foreach (var _ in client.GetStreamingResponseAsync(EndpointTestKit.Question)) { }
        await client.GetResponseAsync(EndpointTestKit.Question, AlignSharp.Models.Generation.ChatLogprobs.Request(null, 2));
    });

    static async Task<FaultServer> StartCoreAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new FaultServer(app);
        app.MapPost("/v1/chat/completions", server.HandleAsync);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Endpoint = new Uri(address.TrimEnd('/') + "/v1");
        return server;
    }

    /// <summary>The key of a request with these messages (as the server sees them): what answer counts are kept by.</summary>
    public static string KeyOf(string messagesJson) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(messagesJson)))[..16];

    /// <summary>The score the server answers for a request key: 1..5.</summary>
    public static int ScoreOf(string key) => (int)(Convert.ToUInt64(key[..8], 16) % 5) + 1;

    async Task HandleAsync(HttpContext context)
    {
        int now = Interlocked.Increment(ref _inFlight);
        for (int seen = MaxInFlight; now > seen && Interlocked.CompareExchange(ref _maxInFlight, now, seen) != seen; seen = MaxInFlight) { }
        try { await HandleCoreAsync(context); }
        finally { Interlocked.Decrement(ref _inFlight); }
    }

    async Task HandleCoreAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        Arrivals.Enqueue(DateTimeOffset.UtcNow);
        LastAuthorization = context.Request.Headers.Authorization.ToString();
        using var reader = new StreamReader(context.Request.Body);
        string body = await reader.ReadToEndAsync();
        LastBody = body;
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        string key = KeyOf(root.GetProperty("messages").GetRawText());
        int earlier = _arrivals.AddOrUpdate(key, 1, (_, n) => n + 1) - 1;
        bool stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        bool logprobs = root.TryGetProperty("logprobs", out var l) && l.ValueKind == JsonValueKind.True;
        int top = root.TryGetProperty("top_logprobs", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetInt32() : 0;
        string model = root.TryGetProperty("model", out var m) ? m.GetString() ?? "" : "";

        var fault = _script.TryDequeue(out var scripted) ? scripted : Rule?.Invoke(key, earlier) ?? Fault.None;
        if (Down || (DownAfterAnswers is { } limit && Interlocked.Increment(ref _admitted) > limit)) { await Error(context, 503, "the server is down"); return; }
        var abort = context.RequestAborted;
        switch (fault)
        {
            case Fault.Hang:
                context.Response.ContentType = "application/json";
                context.Response.ContentLength = 1000;
                await context.Response.WriteAsync("{\"id\": \"chatcmpl-");
                await context.Response.Body.FlushAsync();
                try { await Task.Delay(HangFor, abort); } catch (OperationCanceledException) { }
                context.Abort();
                return;
            case Fault.Unauthorized:
                await Error(context, 401, $"invalid key: {context.Request.Headers.Authorization}");
                return;
            case Fault.TooManyRequests:
                context.Response.Headers.RetryAfter = RetryAfterHeader;
                await Error(context, 429, "rate limit reached");
                return;
            case Fault.InternalError: await Error(context, 500, "internal error"); return;
            case Fault.Unavailable: await Error(context, 503, "overloaded"); return;
            case Fault.GarbageJson:
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("{\"id\": \"chatcmpl-1\", \"choices\": [ {\"message\": <html>502 Bad Gateway</html>");
                return;
            case Fault.NoChoices:
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":0,\"model\":\"" + model + "\"}");
                return;
            case Fault.SlowFirstByte:
                try { await Task.Delay(SlowFirstByte, abort); } catch (OperationCanceledException) { return; }
                break;
        }

        int score = ScoreOf(key);
        string[] tokens = ["Score", ":", $" {score}"];
        if (stream) await StreamAnswer(context, model, tokens, logprobs, top, cut: fault == Fault.CutStream);
        else await Answer(context, model, tokens, logprobs, top, cut: fault == Fault.CutStream);
        if (fault != Fault.CutStream)
        {
            _answers.AddOrUpdate(key, 1, (_, n) => n + 1);
            Interlocked.Increment(ref _answered);
        }
    }

    static async Task Error(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new { error = new { message, type = "server_error", code = status } }));
    }

    /// <summary>log(p) of a token: the chosen one gets the most mass, alternatives less, deterministic.</summary>
    static object TokenLogprobs(string token, int top) => new
    {
        token,
        logprob = -0.25,
        bytes = Encoding.UTF8.GetBytes(token).Select(b => (int)b).ToArray(),
        top_logprobs = Enumerable.Range(0, top).Select(i => new
        {
            token = i == 0 ? token : $"{token}#{i}",
            logprob = -0.25 - 1.5 * i,
            bytes = Encoding.UTF8.GetBytes(i == 0 ? token : $"{token}#{i}").Select(b => (int)b).ToArray(),
        }).ToArray(),
    };

    static async Task Answer(HttpContext context, string model, string[] tokens, bool logprobs, int top, bool cut)
    {
        string json = JsonSerializer.Serialize(new
        {
            id = "chatcmpl-fault", @object = "chat.completion", created = 1_700_000_000, model,
            choices = new[]
            {
                new
                {
                    index = 0,
                    message = new { role = "assistant", content = string.Concat(tokens) },
                    finish_reason = "stop",
                    logprobs = logprobs ? new { content = tokens.Select(tok => TokenLogprobs(tok, top)).ToArray() } : null,
                },
            },
            usage = new { prompt_tokens = 12, completion_tokens = tokens.Length, total_tokens = 12 + tokens.Length },
        });
        byte[] bytes = Encoding.UTF8.GetBytes(json);
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = bytes.Length;
        if (!cut) { await context.Response.Body.WriteAsync(bytes); return; }
        await context.Response.Body.WriteAsync(bytes.AsMemory(0, bytes.Length / 2));
        await context.Response.Body.FlushAsync();
        context.Abort();
    }

    static async Task StreamAnswer(HttpContext context, string model, string[] tokens, bool logprobs, int top, bool cut)
    {
        context.Response.ContentType = "text/event-stream";
        async Task Send(object chunk)
        {
            await context.Response.WriteAsync("data: " + JsonSerializer.Serialize(chunk) + "\n\n");
            await context.Response.Body.FlushAsync();
        }
        object Chunk(object delta, string? finish) => new
        {
            id = "chatcmpl-fault", @object = "chat.completion.chunk", created = 1_700_000_000, model,
            choices = new[] { new { index = 0, delta, finish_reason = finish } },
        };
        await Send(Chunk(new { role = "assistant", content = "" }, null));
        for (int i = 0; i < tokens.Length; i++)
        {
            await Send(Chunk(new { content = tokens[i] }, null));
            if (cut && i == 0) { context.Abort(); return; }
        }
        await Send(Chunk(new { }, "stop"));
        await context.Response.WriteAsync("data: [DONE]\n\n");
    }

    public async ValueTask DisposeAsync()
    {
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1))) await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
