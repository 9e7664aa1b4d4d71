using System.Security.Cryptography;
using System.Text;

namespace AlignSharp.Feedback;

/// <summary>Scoring many items with bounded concurrency, in order.</summary>
public static class SignalBatch
{
    /// <summary>
    /// <see cref="ISignalSource.ScoreAsync"/> over every item, at most <paramref name="maxConcurrency"/> in flight;
    /// the result has one label (or null) per item, in the items' order, whatever order they finish in.
    /// </summary>
    public static async ValueTask<FeedbackLabel?[]> ScoreAsync(ISignalSource source, IReadOnlyList<SignalItem> items, int maxConcurrency, CancellationToken cancellationToken)
    {
        if (maxConcurrency < 1) throw new FeedbackException($"{source.Name}: max concurrency must be at least 1 (got {maxConcurrency})");
        var labels = new FeedbackLabel?[items.Count];
        if (maxConcurrency == 1)
        {
            for (int i = 0; i < items.Count; i++) labels[i] = await source.ScoreAsync(items[i].Prompt, items[i].Response, cancellationToken);
            return labels;
        }
        await Parallel.ForEachAsync(Enumerable.Range(0, items.Count), new ParallelOptions { MaxDegreeOfParallelism = maxConcurrency, CancellationToken = cancellationToken },
            async (i, ct) => labels[i] = await source.ScoreAsync(items[i].Prompt, items[i].Response, ct));
        return labels;
    }

    /// <summary>Scores every item with the synchronous <see cref="ISignalSource.Score"/>, for programmatic sources on one thread.</summary>
    public static FeedbackLabel?[] Score(ISignalSource source, IReadOnlyList<SignalItem> items) =>
        items.Select(item => source.Score(item.Prompt, item.Response)).ToArray();
}

/// <summary>Builds <see cref="ISignalSource.Fingerprint"/> strings.</summary>
public static class SignalFingerprint
{
    /// <summary>
    /// "name@vVERSION" when there are no settings, else "name@vVERSION#HASH" with the first 16 hex digits of the
    /// SHA-256 of the settings text (a canonical rendering of every setting that changes scores, and the fingerprints
    /// of any inner sources).
    /// </summary>
    public static string Of(string name, int version, string settings = "") =>
        settings.Length == 0 ? $"{name}@v{version}" : $"{name}@v{version}#{Hash(settings)}";

    /// <summary>The first 16 hex digits of the SHA-256 of <paramref name="text"/> (UTF-8).</summary>
    public static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
}
