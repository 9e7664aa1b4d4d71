using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using AlignSharp.Feedback;
using AlignSharp.Feedback.Providers;
using AlignSharp.Feedback.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AlignSharp.Cli;

/// <summary>
/// `alignsharp bench endpoint`: labels per second through the whole labelling path — the endpoint provider
/// (OpenAI SDK + resilience), a model-backed signal source, <see cref="CachingSignalSource"/> into a fresh
/// <see cref="FeedbackStore"/> — against a loopback OpenAI-shaped server that answers every request after a fixed
/// latency L. With c requests in flight the ideal is c ÷ L labels/s; the bench prints the measured rate, its share of
/// the ideal and the peak working set per level (flat memory = the client holds nothing per finished request).
/// </summary>
internal static partial class EndpointBench
{
    internal static readonly CommandSpec Spec = new("bench endpoint", "[--latency-ms MS] [--levels 1,8,32,64]",
        "labels/s through the endpoint client, resilience and the feedback store against a loopback server of fixed latency; last line the highest level's share of ideal",
        new("latency-ms", "MS", "the server's fixed answer latency", "200"),
        new("levels", "LIST", "concurrency levels, comma-separated", "1,8,32,64"),
        new("waves", "N", "requests per level = N × concurrency (a level starts with cold connections; more waves measure the steady state)", "20"));

    public static int Run(Options o, TextWriter stdout) => RunAsync(o, stdout).GetAwaiter().GetResult();

    static async Task<int> RunAsync(Options o, TextWriter stdout)
    {
        int latencyMs = o.Int("latency-ms", 200), waves = o.Int("waves", 20);
        int[] levels = (o.Value("levels") ?? "1,8,32,64").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int c) && c >= 1 ? c : throw new UsageException($"bench endpoint: --levels must be whole numbers ≥ 1 (got '{s}')"))
            .ToArray();
        if (levels.Length == 0) throw new UsageException("bench endpoint: --levels names no level");
        // The client side is async I/O, but SQLite commits and JSON run on pool threads: start with enough that the
        // pool's slow ramp-up (one thread per ~0.5 s under starvation) is never what is measured.
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 2 * levels.Max()), Math.Max(io, 2 * levels.Max()));

        await using var server = await LatencyServer.StartAsync(TimeSpan.FromMilliseconds(latencyMs));
        string folder = Path.Combine(Path.GetTempPath(), "alignsharp-bench-endpoint-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        try
        {
            stdout.WriteLine($"loopback server: {server.Endpoint}, fixed latency {latencyMs} ms; {waves} × concurrency requests per level, each a label stored in a fresh feedback store");
            await Level(server, folder, "warmup", 8, 16); // JIT, connection pool, SQLite: not measured
            stdout.WriteLine($"{"concurrency",11} {"labels",7} {"seconds",8} {"labels/s",9} {"ideal",7} {"% ideal",8} {"peak WS MB",11} {"heap MB",8}");
            double lastShare = 0;
            foreach (var (c, index) in levels.Select((c, i) => (c, i)))
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                var (seconds, peakBytes, heapBytes) = await Level(server, folder, $"level{index}-c{c}", c, waves * c);
                double rate = waves * c / seconds, ideal = c * 1000.0 / latencyMs;
                lastShare = rate / ideal;
                stdout.WriteLine($"{c,11} {waves * c,7} {seconds,8:F2} {rate,9:F1} {ideal,7:F0} {lastShare * 100,7:F1}% {peakBytes / 1048576.0,11:F0} {heapBytes / 1048576.0,8:F1}");
            }
            stdout.WriteLine($"endpoint: {levels[^1]} concurrent: {lastShare * 100:F1}% of ideal");
            return 0;
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    /// <summary>
    /// Labels <paramref name="count"/> distinct items at concurrency <paramref name="concurrency"/>; returns the time, the
    /// peak working set while labelling, and the managed heap still live after it (client and store still open).
    /// </summary>
    static async Task<(double Seconds, long PeakBytes, long HeapBytes)> Level(LatencyServer server, string folder, string name, int concurrency, int count)
    {
        var options = new ChatProviderOptions
        {
            Role = ProviderRole.Judge, Kind = ProviderKind.Endpoint, Model = "bench-judge", Endpoint = server.Endpoint,
            MaxConcurrency = concurrency, TimeoutSeconds = 30, Source = "bench endpoint",
        };
        using var client = ChatProviders.Create(options);
        using var store = FeedbackStore.Open(Path.Combine(folder, name + ".db"));
        var judge = new CachingSignalSource(new ScoreSource(client, options.Identity), store);
        var items = Enumerable.Range(0, count)
            .Select(i => new SignalItem(new PromptRecord($"{name}-{i}", $"question {i} of {name}", "bench", new Dictionary<string, string>()), $"answer {i}"))
            .ToArray();

        using var process = Process.GetCurrentProcess();
        long peak = 0;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                process.Refresh();
                peak = Math.Max(peak, process.WorkingSet64);
                try { await Task.Delay(20, sampling.Token); } catch (OperationCanceledException) { }
            }
        });
        var clock = Stopwatch.StartNew();
        var labels = await judge.ScoreBatchAsync(items, concurrency);
        double seconds = clock.Elapsed.TotalSeconds;
        sampling.Cancel();
        await sampler;
        if (labels.Any(l => l is null) || store.LabelCount != count)
            throw new InvalidOperationException($"bench endpoint: {store.LabelCount} labels stored for {count} items");
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return (seconds, peak, GC.GetGCMemoryInfo().HeapSizeBytes);
    }

    /// <summary>The bench's judge: asks for a 1–5 score and reads "Score: N".</summary>
    sealed partial class ScoreSource(IChatClient client, string identity) : ISignalSource
    {
        public string Name => "bench-score";
        public string Fingerprint => SignalFingerprint.Of(Name, 1, identity);
        public FeedbackLabel? Score(PromptRecord prompt, string response) => ScoreAsync(prompt, response).AsTask().GetAwaiter().GetResult();

        public async ValueTask<FeedbackLabel?> ScoreAsync(PromptRecord prompt, string response, CancellationToken cancellationToken = default)
        {
            var answer = await client.GetResponseAsync([new ChatMessage(ChatRole.User, $"Rate 1-5.\nPrompt: {prompt.Text}\nResponse: {response}")],
                new ChatOptions { MaxOutputTokens = 8 }, cancellationToken);
            var match = ScorePattern().Match(answer.Text);
            return match.Success
                ? new FeedbackLabel(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) / 5.0, answer.Text, new Provenance(Name, SignalKind.Judge, Model: identity))
                : throw new FeedbackException($"{Name}: no score in '{answer.Text}'");
        }

        [GeneratedRegex(@"Score:\s*(\d+)")]
        private static partial Regex ScorePattern();
    }

    /// <summary>An OpenAI-shaped chat-completions server on loopback that answers "Score: N" (N from the body's length) after a fixed latency.</summary>
    sealed class LatencyServer : IAsyncDisposable
    {
        readonly WebApplication _app;
        LatencyServer(WebApplication app) => _app = app;

        public Uri Endpoint { get; private set; } = null!;

        public static async Task<LatencyServer> StartAsync(TimeSpan latency)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            app.MapPost("/v1/chat/completions", async context =>
            {
                using var reader = new StreamReader(context.Request.Body);
                string body = await reader.ReadToEndAsync();
                await Task.Delay(latency);
                int score = body.Length % 5 + 1;
                byte[] json = Encoding.UTF8.GetBytes(
                    "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"bench-judge\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Score: "
                    + score + "\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":3,\"total_tokens\":23}}");
                context.Response.ContentType = "application/json";
                context.Response.ContentLength = json.Length;
                await context.Response.Body.WriteAsync(json);
            });
            await app.StartAsync();
            var server = new LatencyServer(app);
            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            server.Endpoint = new Uri(address.TrimEnd('/') + "/v1");
            return server;
        }

        public async ValueTask DisposeAsync()
        {
            using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2))) await _app.StopAsync(stop.Token);
            await _app.DisposeAsync();
        }
    }
}
