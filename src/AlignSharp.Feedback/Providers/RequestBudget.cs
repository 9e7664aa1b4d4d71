using System.Threading.RateLimiting;
using Microsoft.Extensions.AI;

namespace AlignSharp.Feedback.Providers;

/// <summary>
/// An endpoint's requests-per-minute and tokens-per-minute limits as two token buckets (System.Threading.RateLimiting),
/// each starting full (a minute's allowance) and refilled evenly. A request is charged before it is sent: one request,
/// and an estimate of its tokens = prompt characters ÷ characters-per-token + the completion budget (max output tokens,
/// else <see cref="DefaultCompletionTokens"/>). The reported usage then corrects both: the difference between the
/// estimate and the real total is carried into the next charge (a debt or a credit), and characters-per-token is
/// re-estimated from the prompt's reported token count (a running average).
/// </summary>
public sealed class RequestBudget : IDisposable
{
    /// <summary>Completion tokens assumed when a request sets no max output tokens.</summary>
    public const int DefaultCompletionTokens = 256;

    readonly TokenBucketRateLimiter? _requests, _tokens;
    readonly int _tokenLimit;
    readonly Lock _gate = new();
    double _charsPerToken = 4; // the usual English average until usage says otherwise
    long _carry;               // tokens used beyond (+) or below (−) what was charged, settled at the next charge

    /// <param name="requestsPerMinute">0 = unlimited.</param>
    /// <param name="tokensPerMinute">0 = unlimited.</param>
    public RequestBudget(int requestsPerMinute, int tokensPerMinute)
    {
        if (requestsPerMinute > 0) _requests = Bucket(requestsPerMinute);
        if (tokensPerMinute > 0) { _tokens = Bucket(tokensPerMinute); _tokenLimit = tokensPerMinute; }
    }

    /// <summary>True when neither limit is set (nothing to wait for).</summary>
    public bool Unlimited => _requests is null && _tokens is null;

    /// <summary>Waits until the request may be sent; returns the tokens charged, for <see cref="Settle"/>.</summary>
    public async ValueTask<Charge> AcquireAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        if (_requests is not null) await Take(_requests, 1, "requests_per_minute", cancellationToken).ConfigureAwait(false);
        if (_tokens is null) return default;
        int promptChars = messages.Sum(m => m.Text?.Length ?? 0);
        long estimate;
        lock (_gate)
        {
            estimate = (long)Math.Ceiling(promptChars / _charsPerToken) + (options?.MaxOutputTokens ?? DefaultCompletionTokens);
            estimate = Math.Max(1, estimate + _carry);
            _carry = 0;
        }
        // A single request larger than a minute's allowance waits for a full bucket instead of failing.
        int permits = (int)Math.Min(estimate, _tokenLimit);
        await Take(_tokens, permits, "tokens_per_minute", cancellationToken).ConfigureAwait(false);
        return new Charge(permits, promptChars);
    }

    /// <summary>Corrects the budget with the usage the endpoint reported for a request charged <paramref name="charge"/>.</summary>
    public void Settle(Charge charge, UsageDetails? usage)
    {
        if (_tokens is null || charge.Tokens == 0 || usage is null) return;
        long? total = usage.TotalTokenCount ?? (usage.InputTokenCount + usage.OutputTokenCount);
        lock (_gate)
        {
            if (total is { } t) _carry += t - charge.Tokens;
            if (usage.InputTokenCount is > 0 and var input && charge.PromptChars > 0)
                _charsPerToken = 0.8 * _charsPerToken + 0.2 * Math.Clamp((double)charge.PromptChars / input, 0.5, 16);
        }
    }

    /// <summary>What a request was charged: tokens taken from the bucket and the prompt's length in characters.</summary>
    public readonly record struct Charge(int Tokens, int PromptChars);

    static async ValueTask Take(TokenBucketRateLimiter bucket, int permits, string limit, CancellationToken cancellationToken)
    {
        using var lease = await bucket.AcquireAsync(permits, cancellationToken).ConfigureAwait(false);
        if (!lease.IsAcquired) throw new FeedbackException($"{limit}: the rate limiter refused {permits} permits");
    }

    /// <summary>A bucket of a minute's allowance refilled evenly: 1 token every 60/perMinute s, or in steps of 100 ms when that is finer.</summary>
    static TokenBucketRateLimiter Bucket(int perMinute)
    {
        int step = perMinute <= 600 ? 1 : (int)Math.Round(perMinute / 600.0);
        return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = perMinute,
            TokensPerPeriod = step,
            ReplenishmentPeriod = TimeSpan.FromMinutes((double)step / perMinute),
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }

    public void Dispose()
    {
        _requests?.Dispose();
        _tokens?.Dispose();
    }
}
