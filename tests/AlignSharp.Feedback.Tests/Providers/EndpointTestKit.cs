using AlignSharp.Feedback.Providers;
using Microsoft.Extensions.AI;

namespace AlignSharp.Feedback.Tests.Providers;

static class EndpointTestKit
{
    /// <summary>
    /// A judge endpoint on the fault server with tiny retry delays. The attempt timeout is what a hang costs, and it
    /// must stay far above a warm loopback answer on a loaded 2-core machine (milliseconds; the JIT's first call is
    /// taken out by <see cref="FaultServer.StartAsync"/>), else a healthy answer is abandoned and paid twice.
    /// </summary>
    public static ChatProviderOptions Judge(FaultServer server, double timeoutSeconds = 3, int maxRetries = 6, int maxConcurrency = 8, string? apiKeyEnv = null) => new()
    {
        Role = ProviderRole.Judge, Kind = ProviderKind.Endpoint, Model = "fault-judge", Endpoint = server.Endpoint, Source = "recipe.yaml",
        ApiKeyEnv = apiKeyEnv, TimeoutSeconds = timeoutSeconds, MaxRetries = maxRetries, MaxConcurrency = maxConcurrency,
        RetryBaseDelay = TimeSpan.FromMilliseconds(1), RetryMaxDelay = TimeSpan.FromMilliseconds(5),
    };

    public static readonly ChatMessage[] Question = [new(ChatRole.User, "How good is this?")];

    /// <summary>The score the fault server answers, read from its text.</summary>
    public static int ScoreIn(string text) => text.StartsWith("Score: ") ? int.Parse(text[7..]) : throw new Xunit.Sdk.XunitException($"not an answer: '{text}'");

    /// <summary>Items with distinct responses to label.</summary>
    public static SignalItem[] Items(int n) =>
        Enumerable.Range(0, n).Select(i => new SignalItem(new PromptRecord($"p{i}", $"question {i}", "test", new Dictionary<string, string>()), $"answer {i}")).ToArray();
}
