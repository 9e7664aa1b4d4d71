using System.Net;
using System.Runtime.InteropServices;
using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Lora;
using AlignSharp.Serving;

namespace AlignSharp.Cli;

/// <summary>`alignsharp serve`: a model folder behind OpenAI's chat-completions API (<see cref="OpenAiCompatibleServer"/>) until Ctrl+C.</summary>
internal static class ServeCommand
{
    internal static readonly CommandSpec Spec = new("serve", "--model DIR [--adapter DIR] [--host 127.0.0.1] [--port 8000] [--api-key-env VAR] [--max-batch N]",
        "serve a model folder with OpenAI's chat-completions API (POST /v1/chat/completions, GET /v1/models, GET /health) until Ctrl+C",
        new("model", "DIR", "Hugging Face model folder; required unless --adapter names its base"),
        new("adapter", "DIR", "PEFT LoRA adapter folder folded into the base's weights; the base is --model, else adapter_config.json's base_model_name_or_path"),
        new("host", "ADDR", "address to listen on (an IP address or localhost); anything but loopback is reachable from other machines", "127.0.0.1"),
        new("port", "N", "TCP port; 0 picks a free one (the address is printed)", "8000"),
        new("api-key-env", "VAR", "environment variable holding the API key; every request must then send Authorization: Bearer KEY (401 otherwise)"),
        new("max-batch", "N", "sequences decoded together; further requests wait for a slot", "16"),
        new("max-pending", "N", "sequences running or waiting at most; past it requests get 429 with Retry-After", "256"),
        new("max-tokens", "N", "largest max_tokens a request may ask for", "the model's context"),
        new("max-n", "N", "largest n (choices per request)", "16"),
        new("max-request-bytes", "N", "largest request body; larger ones get 413", "1048576"),
        new("model-id", "NAME", "the model name clients send and /v1/models lists", "the folder's name"));

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        const string cmd = "serve";
        var o = new Options(args, Spec);
        string? adapterDir = o.Value("adapter");
        if (adapterDir is not null && !Directory.Exists(adapterDir)) throw new UsageException($"{cmd}: --adapter {adapterDir}: no such folder");
        string dir = adapterDir is null ? o.Required("model", cmd) : PeftAdapterConfig.Read(adapterDir).ResolveBaseModel(o.Value("model"), "give the base model folder with --model BASE");
        if (!Directory.Exists(dir)) throw new UsageException($"{cmd}: --model {dir}: no such folder");
        if (!File.Exists(Path.Combine(dir, "config.json"))) throw new UsageException($"{cmd}: --model {dir}: not a Hugging Face model folder (no config.json)");

        string? apiKey = null;
        if (o.Value("api-key-env") is { } variable)
        {
            apiKey = Environment.GetEnvironmentVariable(variable);
            if (string.IsNullOrEmpty(apiKey)) throw new UsageException($"{cmd}: --api-key-env {variable}: the variable is not set or empty (export {variable}=... first)");
        }
        var options = new ServerOptions
        {
            Host = o.Value("host") ?? "127.0.0.1",
            Port = o.Int("port", 8000, min: 0),
            ApiKey = apiKey,
            MaxPendingSequences = o.Int("max-pending", 256),
            MaxTokens = o.Value("max-tokens") is null ? null : o.Int("max-tokens", 0),
            MaxN = o.Int("max-n", 16),
            MaxRequestBytes = o.Int("max-request-bytes", 1 << 20, min: 1024),
        };
        if (options.Port > 65535) throw new UsageException($"{cmd}: --port must be in [0, 65535] (got {options.Port})");
        if (!options.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase) && !IPAddress.TryParse(options.Host.Trim('[', ']'), out _))
            throw new UsageException($"{cmd}: --host {options.Host}: not an IP address or localhost (e.g. 127.0.0.1, 0.0.0.0)");
        int maxBatch = o.Int("max-batch", 16);

        using var model = ServedModel.FromFolder(dir, adapterDir, maxBatch, out bool fallback);
        if (fallback) stderr.WriteLine($"alignsharp: note: {ChatEncoder.FallbackNote(adapterDir is null ? dir : AdapterMerge.TokenizerFolder(dir, adapterDir))}");
        var served = o.Value("model-id") is { } id ? new ServedModel(model.Batcher, model.Tokenizer, model.Template, model.TemplateOptions, id) : model;
        return Serve(options, served, stdout, stderr).GetAwaiter().GetResult();
    }

    private static async Task<int> Serve(ServerOptions options, ServedModel model, TextWriter stdout, TextWriter stderr)
    {
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; stop.TrySetResult(); };
        Console.CancelKeyPress += onCancel;
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
        try
        {
            await using var server = await OpenAiCompatibleServer.StartAsync(options, model);
            if (!IsLoopback(options.Host))
                stderr.WriteLine($"alignsharp: note: listening on {options.Host}: reachable from other machines{(options.ApiKey is null ? "; consider --api-key-env VAR" : "")}");
            stdout.WriteLine($"serving {model.ModelId} on {server.ApiBase} (OpenAI chat-completions API; max batch {model.Batcher.MaxBatch}" +
                $"{(options.ApiKey is null ? "" : ", API key required")}); Ctrl+C stops");
            stdout.Flush();
            await stop.Task;
            stdout.WriteLine("stopping: finishing requests in flight...");
            stdout.Flush();
        }
        finally { Console.CancelKeyPress -= onCancel; }
        stdout.WriteLine("stopped");
        return 0;
    }

    private static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}
