using AlignSharp.Feedback;
using AlignSharp.Feedback.Providers;
using AlignSharp.Serving;
using Microsoft.Extensions.AI;

namespace AlignSharp.Alignment.Pipelines;

/// <summary>
/// The loop's judge, always reached over the OpenAI chat-completions API: the endpoint a recipe's <c>judge:</c> block
/// names (vLLM, llama.cpp, Ollama, OpenAI...), or a model folder served on loopback for the run by the same server as
/// <c>alignsharp serve</c> — so the embedded demo's judge takes exactly the path a remote judge would (HTTP, retries,
/// concurrency bound, log-probs for soft labels).
/// </summary>
public sealed class JudgeConnection : IDisposable
{
    private readonly RunningServer? _server;
    private readonly ServedModel? _served;

    private JudgeConnection(IChatClient client, RunningServer? server, ServedModel? served, string description)
    {
        Client = client;
        _server = server;
        _served = served;
        Description = description;
    }

    /// <summary>The judge as a chat client (endpoint provider with retries and a concurrency bound).</summary>
    public IChatClient Client { get; }

    /// <summary>Where the judge runs, for logs and the report (never an API key).</summary>
    public string Description { get; }

    /// <summary>Connects to the provider a recipe's judge block configures (an endpoint, or a local folder).</summary>
    public static JudgeConnection Connect(ChatProviderOptions judge) => new(ChatProviders.Create(judge), null, null, judge.Identity);

    /// <summary>Serves <paramref name="folder"/> on a free loopback port and connects to it through the endpoint provider.</summary>
    /// <param name="maxConcurrency">Requests in flight at once (also the server's decode batch).</param>
    public static JudgeConnection Serve(string folder, int maxConcurrency)
    {
        var model = ServedModel.FromFolder(folder, null, maxConcurrency, out _);
        RunningServer? server = null;
        try
        {
            server = OpenAiCompatibleServer.StartAsync(new ServerOptions { Port = 0, MaxPendingSequences = Math.Max(256, 4 * maxConcurrency) }, model).GetAwaiter().GetResult();
            var client = ChatProviders.Create(new ChatProviderOptions
            {
                Role = ProviderRole.Judge, Kind = ProviderKind.Endpoint, Endpoint = server.ApiBase, Model = model.ModelId,
                MaxConcurrency = maxConcurrency, Source = "judge (served for the run)",
            });
            return new JudgeConnection(client, server, model, $"{model.ModelId} served on {server.ApiBase}");
        }
        catch
        {
            server?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            model.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Client.Dispose();
        _server?.DisposeAsync().AsTask().GetAwaiter().GetResult(); // the server first: it may still be decoding for the model
        _served?.Dispose();
    }
}
