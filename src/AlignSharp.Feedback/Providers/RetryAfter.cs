using System.ClientModel;
using System.Globalization;

namespace AlignSharp.Feedback.Providers;

/// <summary>
/// The wait a server asks for before the next request (RFC 9110 §10.2.3): <c>Retry-After</c> as delay-seconds or an
/// HTTP-date, or OpenAI's <c>retry-after-ms</c>, read from the raw response of a failed SDK call.
/// </summary>
public static class RetryAfter
{
    /// <summary>The wait asked for by <paramref name="fault"/>'s response, or null when it carries none (or is not an HTTP error).</summary>
    public static TimeSpan? Of(Exception? fault, DateTimeOffset now)
    {
        var headers = (fault as ClientResultException)?.GetRawResponse()?.Headers;
        if (headers is null) return null;
        if (headers.TryGetValue("retry-after-ms", out var ms) && ms is not null
            && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out double milliseconds) && milliseconds >= 0)
            return TimeSpan.FromMilliseconds(milliseconds);
        return headers.TryGetValue("Retry-After", out var value) ? Parse(value, now) : null;
    }

    /// <summary>A Retry-After value: whole (or decimal) seconds, or an HTTP-date (a date in the past means now); null when unreadable.</summary>
    public static TimeSpan? Parse(string? value, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        value = value.Trim();
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds))
            return seconds >= 0 && seconds < TimeSpan.MaxValue.TotalSeconds ? TimeSpan.FromSeconds(seconds) : null;
        if (DateTimeOffset.TryParseExact(value, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date)
            || DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out date))
            return date > now ? date - now : TimeSpan.Zero;
        return null;
    }
}
