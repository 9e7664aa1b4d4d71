using Microsoft.Extensions.AI;

namespace AlignSharp.Models.Generation;

/// <summary>A generated token's text and log-probability, with the most likely alternatives at its position when asked.</summary>
public sealed record TokenLogprob(string Token, double Logprob, IReadOnlyList<TokenLogprob>? Top = null);

/// <summary>
/// How token log-probabilities travel through <see cref="IChatClient"/>, which has no field for them: a caller asks with
/// <see cref="Request"/> (<c>ChatOptions.AdditionalProperties["top_logprobs"]</c> = k, 0–20) and reads them with
/// <see cref="Get"/> (<c>ChatResponse.AdditionalProperties["logprobs"]</c>). The local client and the endpoint provider
/// both honour it, so a judge reads verdict-token probabilities the same way from either.
/// </summary>
public static class ChatLogprobs
{
    /// <summary>Key in <see cref="ChatOptions.AdditionalProperties"/>: an int k in [0, 20]; present = return log-probs, with k alternatives per token.</summary>
    public const string RequestKey = "top_logprobs";
    /// <summary>Key in <see cref="ChatResponse.AdditionalProperties"/>: an <c>IReadOnlyList&lt;TokenLogprob&gt;</c>, one per generated token.</summary>
    public const string ResponseKey = "logprobs";

    /// <summary>A copy of <paramref name="options"/> (or new options) asking for log-probs with <paramref name="top"/> alternatives per token.</summary>
    public static ChatOptions Request(ChatOptions? options, int top)
    {
        if (top is < 0 or > 20) throw new ArgumentOutOfRangeException(nameof(top), $"top_logprobs must be in [0, 20] (got {top})");
        var copy = options?.Clone() ?? new ChatOptions();
        copy.AdditionalProperties = new AdditionalPropertiesDictionary(copy.AdditionalProperties ?? []) { [RequestKey] = top };
        return copy;
    }

    /// <summary>The k asked for, or null when the options do not ask for log-probs.</summary>
    public static int? Requested(ChatOptions? options) =>
        options?.AdditionalProperties?.TryGetValue(RequestKey, out var v) == true ? Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture) : null;

    /// <summary>The response's token log-probs, or null when the provider returned none.</summary>
    public static IReadOnlyList<TokenLogprob>? Get(ChatResponse response) =>
        response.AdditionalProperties?.TryGetValue(ResponseKey, out var v) == true ? v as IReadOnlyList<TokenLogprob> : null;

    /// <summary>Attaches token log-probs to a response (providers call this).</summary>
    public static void Set(ChatResponse response, IReadOnlyList<TokenLogprob> logprobs)
    {
        response.AdditionalProperties ??= [];
        response.AdditionalProperties[ResponseKey] = logprobs;
    }
}
