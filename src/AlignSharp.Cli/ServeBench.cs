using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Generation;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Models.Transformers;
using AlignSharp.Serving;
using AlignSharp.Tensors;

namespace AlignSharp.Cli;

/// <summary>
/// `alignsharp bench serve`: aggregate completion tokens/s of <c>alignsharp serve</c> at several numbers of concurrent clients,
/// through real HTTP on loopback, with the bench-decode Llama of `bench decode` (random weights, no eos, so every request
/// decodes exactly max_tokens). Continuous batching is what lets many clients share each decode step: the ratio to one
/// client is the headline (issue 12's goal: 16 clients ≥ 4× one).
/// </summary>
internal static class ServeBench
{
    public static int Run(Options o, TextWriter stdout)
    {
        WorkerPool.SetDefaultThreads(o.Int("threads", WorkerPool.Default.Threads));
        int maxTokens = o.Int("max-tokens", 64), maxBatch = o.Int("max-batch", 64);
        int? rounds = o.Value("rounds") is null ? null : o.Int("rounds", 2);
        var levels = (o.Value("clients") ?? "1,4,16,64").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(c => int.TryParse(c, out int n) && n >= 1 ? n : throw new UsageException($"bench serve: --clients must be a comma-separated list of integers ≥ 1 (got '{c}')"))
            .ToArray();
        return RunAsync(levels, maxTokens, rounds, maxBatch, stdout).GetAwaiter().GetResult();
    }

    /// <param name="fixedRounds">Requests per client; null: enough that every level decodes at least 16 sequences (a steady baseline at one client).</param>
    private static async Task<int> RunAsync(int[] levels, int maxTokens, int? fixedRounds, int maxBatch, TextWriter stdout)
    {
        // A small byte-level BPE with ChatML's special tokens renders the chat; the model's ids past its vocabulary decode to nothing.
        var tokenizer = BpeTrainer.Train(TokenizerCommand.SplitLinesKeepingNewlines(SyntheticText.Generate(200_000)),
            new BpeTrainerOptions(1024, ["<|im_start|>", "<|im_end|>"], 2, TokenizerStyle.Llama3));
        var config = ModelPresets.Get("bench-decode", Architecture.Llama) with { EosTokenIds = [] };
        using var model = TransformerModel.Create(config, seed: 1);
        using var batcher = new ContinuousBatcher(model, tokenizer, maxBatch);
        var served = new ServedModel(batcher, tokenizer, BuiltInTemplates.Get("chatml"), new ChatTemplateOptions(), "bench-decode");
        await using var server = await OpenAiCompatibleServer.StartAsync(
            new ServerOptions { Host = "127.0.0.1", Port = 0, MaxPendingSequences = Math.Max(256, 4 * levels.Max()) }, served);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(30) };

        async Task<int> Complete(int client, int round)
        {
            var body = new JsonObject
            {
                ["model"] = "bench-decode",
                ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = $"Client {client}, request {round}: write a long answer." }),
                ["max_tokens"] = maxTokens,
                ["temperature"] = 0,
            };
            using var response = await http.PostAsJsonAsync("v1/chat/completions", body);
            var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"bench serve: the server answered {(int)response.StatusCode}: {json["error"]?["message"]}");
            return (int)json["usage"]!["completion_tokens"]!;
        }

        stdout.WriteLine($"model: Llama {model.ParameterCount / 1e6:F1}M parameters (bench-decode), max batch {maxBatch}, {maxTokens} tokens per request, " +
            $"{(fixedRounds is { } r ? $"{r} requests per client" : "max(2, 16 / clients) requests per client")}, {WorkerPool.Default.Threads} threads, HTTP on {server.BaseAddress}");
        await Complete(-1, 0); // warm-up: JIT, connection, buffers
        double? single = null, at16 = null;
        foreach (int clients in levels)
        {
            int rounds = fixedRounds ?? Math.Max(2, 16 / clients);
            var sw = Stopwatch.StartNew();
            var tokens = await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
            {
                int sum = 0;
                for (int r = 0; r < rounds; r++) sum += await Complete(c, r);
                return sum;
            })));
            double seconds = sw.Elapsed.TotalSeconds, rate = tokens.Sum() / seconds;
            if (clients == 1) single = rate;
            if (clients == 16) at16 = rate;
            stdout.WriteLine($"clients {clients,3}: {tokens.Sum(),6} tokens in {seconds,7:F2} s = {rate,8:F1} tokens/s" +
                (single is { } one ? $" ({rate / one:F2}× one client)" : ""));
        }
        if (single is { } baseline && at16 is { } sixteen)
            stdout.WriteLine($"serve: 16 clients {sixteen / baseline:F2}× one client ({sixteen:F1} vs {baseline:F1} tokens/s; goal ≥ 4×)");
        else stdout.WriteLine($"serve: {levels.Length} levels measured (include 1 and 16 in --clients for the headline ratio)");
        return 0;
    }
}
