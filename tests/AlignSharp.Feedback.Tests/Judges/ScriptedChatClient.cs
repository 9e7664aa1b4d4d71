using AlignSharp.Models.Generation;
using Microsoft.Extensions.AI;

namespace AlignSharp.Feedback.Tests.Judges;

/// <summary>What a scripted judge answers: the text, and optionally the generated tokens' log-probs.</summary>
sealed record ScriptedReply(string Text, IReadOnlyList<TokenLogprob>? Logprobs = null);

/// <summary>
/// A deterministic IChatClient for judge tests: answers from a function of the user message, records every request
/// (messages and options) and counts calls and the most requests in flight at once. With <c>awaitConcurrent</c> = k,
/// requests hold until k are in flight together (once; then none waits), so a test of concurrency does not depend on
/// timing: if the caller sends one request at a time, the first waits 10 s and MaxInFlight stays below k.
/// </summary>
sealed class ScriptedChatClient(Func<string, ScriptedReply> answer, string? modelId = "scripted-judge", int delayMs = 0, int awaitConcurrent = 0) : IChatClient
{
    int _calls, _inFlight, _maxInFlight;
    readonly List<(IReadOnlyList<ChatMessage> Messages, ChatOptions? Options)> _requests = [];
    readonly TaskCompletionSource _concurrent = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ScriptedChatClient(Func<string, string> answer, string? modelId = "scripted-judge", int delayMs = 0, int awaitConcurrent = 0)
        : this(user => new ScriptedReply(answer(user)), modelId, delayMs, awaitConcurrent) { }

    public int Calls => _calls;
    public int MaxInFlight => _maxInFlight;

    public IReadOnlyList<(IReadOnlyList<ChatMessage> Messages, ChatOptions? Options)> Requests
    {
        get { lock (_requests) return _requests.ToList(); }
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages.ToList();
        Interlocked.Increment(ref _calls);
        int now = Interlocked.Increment(ref _inFlight);
        lock (_requests)
        {
            _requests.Add((list, options));
            _maxInFlight = Math.Max(_maxInFlight, now);
            if (awaitConcurrent > 0 && now >= awaitConcurrent) _concurrent.TrySetResult();
        }
        try
        {
            if (awaitConcurrent > 0) await Task.WhenAny(_concurrent.Task, Task.Delay(10_000, cancellationToken));
            if (delayMs > 0) await Task.Delay(delayMs, cancellationToken);
            var reply = answer(list.Last(m => m.Role == ChatRole.User).Text);
            var response = new ChatResponse(new ChatMessage(ChatRole.Assistant, reply.Text)) { ModelId = modelId };
            // Log-probs only when asked for, as a provider does.
            if (reply.Logprobs is not null && ChatLogprobs.Requested(options) is not null) ChatLogprobs.Set(response, reply.Logprobs);
            return response;
        }
        finally { Interlocked.Decrement(ref _inFlight); }
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("judges do not stream");

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(ChatClientMetadata) && modelId is not null ? new ChatClientMetadata("scripted", null, modelId) : null;

    public void Dispose() { }

    /// <summary>One generated token with alternatives given as (token, probability).</summary>
    public static TokenLogprob Token(string token, double p, params (string Token, double P)[] top) =>
        new(token, Math.Log(p), top.Select(t => new TokenLogprob(t.Token, Math.Log(t.P))).ToArray());
}
