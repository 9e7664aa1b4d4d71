using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Polly;
using Polly.Retry;

namespace AlignSharp.Feedback.Providers;

/// <summary>
/// An endpoint's chat client made dependable: every call runs through a Polly retry pipeline — jittered exponential
/// backoff from <see cref="ChatProviderOptions.RetryBaseDelay"/> (capped at <see cref="ChatProviderOptions.RetryMaxDelay"/>),
/// or the server's <c>Retry-After</c> when it sends one — on the transient faults of <see cref="EndpointFaults"/>, up
/// to <see cref="ChatProviderOptions.MaxRetries"/> retries. Each attempt holds one of
/// <see cref="ChatProviderOptions.MaxConcurrency"/> slots, is charged to the rate limits (<see cref="RequestBudget"/>),
/// and is abandoned after <see cref="ChatProviderOptions.TimeoutSeconds"/> (waiting for a slot does not count).
/// An answer with no choices, or a stream that ends before its finish reason, is an invalid answer and retried.
/// When the budget is spent — or at once for a permanent fault (401, 404, 400) — the call ends in one
/// <see cref="FeedbackException"/> naming the role, the endpoint, the attempts, the last fault and the fix.
/// </summary>
public sealed class ResilientChatClient : DelegatingChatClient
{
    readonly ChatProviderOptions _options;
    readonly ResiliencePipeline _pipeline;
    readonly SemaphoreSlim _slots;
    readonly RequestBudget _budget;
    readonly TimeProvider _time;
    readonly IDisposable? _owned;
    readonly Func<string, string> _redact;
    long _attempts, _retries;

    /// <summary>Added to a Retry-After wait so that an early timer tick never retries before the server's time.</summary>
    static readonly TimeSpan TimerMargin = TimeSpan.FromMilliseconds(20);

    /// <param name="inner">The endpoint client (its SDK retries turned off: these do it).</param>
    /// <param name="options">Limits, retries and timeouts; the endpoint and role for errors.</param>
    /// <param name="owned">Disposed with this client (the HTTP client the SDK sends through).</param>
    /// <param name="redact">Applied to every error text this client writes (removes the API key should a server echo it).</param>
    /// <param name="time">The clock for Retry-After dates; the system clock by default.</param>
    public ResilientChatClient(IChatClient inner, ChatProviderOptions options, IDisposable? owned = null, Func<string, string>? redact = null, TimeProvider? time = null)
        : base(inner)
    {
        _options = options;
        _slots = new SemaphoreSlim(options.MaxConcurrency, options.MaxConcurrency);
        _budget = new RequestBudget(options.RequestsPerMinute, options.TokensPerMinute);
        _time = time ?? TimeProvider.System;
        _owned = owned;
        _redact = redact ?? (s => s);
        var builder = new ResiliencePipelineBuilder();
        if (options.MaxRetries > 0)
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.RetryMaxDelay,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && EndpointFaults.IsTransient(e, args.Context.CancellationToken)),
                // The server's Retry-After wins over the backoff (a 429 says exactly when capacity returns); null = backoff.
                // Timers may fire up to one clock tick early (1 ms on Linux, 15.6 ms on Windows): the margin keeps the
                // wait at least what the server asked for.
                DelayGenerator = args => ValueTask.FromResult(RetryAfter.Of(args.Outcome.Exception, _time.GetUtcNow()) is { } wait
                    ? (TimeSpan?)((wait < _options.MaxRetryAfter ? wait : _options.MaxRetryAfter) + TimerMargin)
                    : null),
                OnRetry = _ => { Interlocked.Increment(ref _retries); return default; },
            });
        _pipeline = builder.Build();
    }

    /// <summary>Attempts sent so far (first tries and retries).</summary>
    public long Attempts => Interlocked.Read(ref _attempts);

    /// <summary>Retries so far.</summary>
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>The provider's settings.</summary>
    public ChatProviderOptions Options => _options;

    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages as IReadOnlyList<ChatMessage> ?? messages.ToList();
        int attempts = 0;
        try
        {
            return await _pipeline.ExecuteAsync(async ct =>
            {
                attempts++;
                return await AttemptAsync(list, options, async (inner, token) =>
                {
                    var response = await inner.GetResponseAsync(list, options, token).ConfigureAwait(false);
                    if (response.Messages.Count == 0 || (response.FinishReason is null && string.IsNullOrEmpty(response.Text)))
                        throw new InvalidAnswerException("no choices in the response");
                    return (response, response.Usage);
                }, ct).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not FeedbackException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            throw GaveUp(e, attempts);
        }
    }

    /// <summary>
    /// Streams the answer. Each attempt is read to its end before its updates are passed on, so a retried stream never
    /// shows the caller half an answer followed by a whole one; a stream that ends without a finish reason was cut.
    /// </summary>
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = messages as IReadOnlyList<ChatMessage> ?? messages.ToList();
        int attempts = 0;
        List<ChatResponseUpdate> updates;
        try
        {
            updates = await _pipeline.ExecuteAsync(async ct =>
            {
                attempts++;
                return await AttemptAsync(list, options, async (inner, token) =>
                {
                    var received = new List<ChatResponseUpdate>();
                    await foreach (var update in inner.GetStreamingResponseAsync(list, options, token).ConfigureAwait(false)) received.Add(update);
                    if (!received.Any(u => u.FinishReason is not null))
                        throw new InvalidAnswerException($"the stream ended after {received.Count} updates without a finish reason");
                    var usage = received.SelectMany(u => u.Contents).OfType<UsageContent>().LastOrDefault()?.Details;
                    return (received, usage);
                }, ct).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not FeedbackException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            throw GaveUp(e, attempts);
        }
        foreach (var update in updates) yield return update;
    }

    /// <summary>One attempt: a concurrency slot, the rate limits, then the call under the attempt timeout.</summary>
    async ValueTask<T> AttemptAsync<T>(IReadOnlyList<ChatMessage> messages, ChatOptions? options,
        Func<IChatClient, CancellationToken, Task<(T Result, UsageDetails? Usage)>> call, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var charge = _budget.Unlimited ? default : await _budget.AcquireAsync(messages, options, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _attempts);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(_options.TimeoutSeconds));
            try
            {
                var (result, usage) = await call(InnerClient, timeout.Token).ConfigureAwait(false);
                _budget.Settle(charge, usage);
                return result;
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new AttemptTimeoutException($"no complete answer within {_options.TimeoutSeconds:0.###} s");
            }
        }
        finally { _slots.Release(); }
    }

    /// <summary>The one error a failed call ends in: role, endpoint, attempts, the last fault, the fix.</summary>
    FeedbackException GaveUp(Exception last, int attempts)
    {
        string where = $"{_options.Source}: {_options.RoleName} endpoint {_options.Endpoint?.AbsoluteUri ?? _options.Model} (model {_options.Model})";
        string fault = EndpointFaults.Describe(last);
        string message = last is System.ClientModel.ClientResultException { Status: > 0 } http && !EndpointFaults.IsTransientStatus(http.Status)
            ? $"{where}: {fault}{(EndpointFaults.ServerMessage(http) is { } said ? $" ({said})" : "")}; {EndpointFaults.FixFor(http.Status, _options)}"
            : $"{where}: gave up after {attempts} attempt{(attempts == 1 ? "" : "s")}; last: {fault}; check that the server is up and serving '{_options.Model}', or raise {_options.RoleName}.max_retries / {_options.RoleName}.timeout_seconds";
        return new FeedbackException(_redact(message));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _slots.Dispose();
            _budget.Dispose();
            _owned?.Dispose();
        }
        base.Dispose(disposing);
    }
}
