namespace AlignSharp.Feedback.Store;

/// <summary>
/// Any signal source, answered from a <see cref="FeedbackStore"/> where it can be: each item is looked up by its
/// content key (the source's fingerprint, the prompt's content and the response; <see cref="LabelKey"/>), only the
/// misses are scored — through the inner source's own batched path, so its concurrency is kept — and stored, one
/// transaction per chunk of <c>commitEvery</c> misses. "Does not apply" (null) is stored and answered too. A re-run
/// of a finished or interrupted pipeline therefore asks the inner source nothing it has answered and committed
/// before: <see cref="InnerCalls"/> counts what it was asked, <see cref="CacheHits"/> what was answered without it.
/// </summary>
/// <example>
/// <code>
/// using var store = FeedbackStore.Open("run/feedback.db");
/// var judge = new CachingSignalSource(new ConstitutionSource(constitution), store);
/// var labels = await judge.ScoreBatchAsync(items, maxConcurrency: 8);
/// Console.WriteLine($"{judge.InnerCalls} scored, {judge.CacheHits} from the store");
/// </code>
/// </example>
public sealed class CachingSignalSource : ISignalSource
{
    readonly int _commitEvery;
    long _innerCalls, _cacheHits;

    /// <param name="inner">The source to cache; its <see cref="ISignalSource.Fingerprint"/> keys its labels.</param>
    /// <param name="store">Where labels are looked up and stored.</param>
    /// <param name="commitEvery">Misses scored and committed together: the most an interruption can lose.</param>
    public CachingSignalSource(ISignalSource inner, FeedbackStore store, int commitEvery = 256)
    {
        if (string.IsNullOrEmpty(inner.Fingerprint)) throw new FeedbackException($"{inner.Name}: a cached source needs a fingerprint (name + settings + version)");
        if (commitEvery < 1) throw new FeedbackException($"{inner.Name}: commitEvery must be at least 1 (got {commitEvery})");
        Inner = inner;
        Store = store;
        _commitEvery = commitEvery;
    }

    /// <summary>The source being cached.</summary>
    public ISignalSource Inner { get; }

    /// <summary>The store answering for it.</summary>
    public FeedbackStore Store { get; }

    /// <inheritdoc/>
    public string Name => Inner.Name;

    /// <inheritdoc/>
    public string Fingerprint => Inner.Fingerprint;

    /// <summary>Items the inner source was asked to score.</summary>
    public long InnerCalls => Interlocked.Read(ref _innerCalls);

    /// <summary>Items answered without the inner source: from the store, or a repeat of an item earlier in the same batch.</summary>
    public long CacheHits => Interlocked.Read(ref _cacheHits);

    /// <inheritdoc/>
    public FeedbackLabel? Score(PromptRecord prompt, string response)
    {
        string key = LabelKey.Of(Fingerprint, prompt, response);
        if (Store.LookupLabels([key]).TryGetValue(key, out var hit))
        {
            Interlocked.Increment(ref _cacheHits);
            return hit.Label;
        }
        Interlocked.Increment(ref _innerCalls);
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        var label = Stamp(Inner.Score(prompt, response), System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        Store.PutLabels([Stored(key, prompt, response, label)]);
        return label;
    }

    /// <summary>One item through <see cref="ScoreBatchAsync"/>: looked up, else scored by the inner source and stored.</summary>
    public async ValueTask<FeedbackLabel?> ScoreAsync(PromptRecord prompt, string response, CancellationToken cancellationToken = default) =>
        (await ScoreBatchAsync([new SignalItem(prompt, response)], 1, cancellationToken))[0];

    /// <summary>Looks every item up, scores the misses (each distinct item once) in chunks through the inner source's batch path, and stores each chunk in one transaction.</summary>
    public async ValueTask<FeedbackLabel?[]> ScoreBatchAsync(IReadOnlyList<SignalItem> items, int maxConcurrency = 1, CancellationToken cancellationToken = default)
    {
        var keys = items.Select(i => LabelKey.Of(Fingerprint, i.Prompt, i.Response)).ToArray();
        var stored = Store.LookupLabels(keys);
        var labels = new FeedbackLabel?[items.Count];
        var misses = new List<(string Key, SignalItem Item, List<int> Positions)>();
        var missByKey = new Dictionary<string, List<int>>();
        for (int i = 0; i < items.Count; i++)
        {
            if (stored.TryGetValue(keys[i], out var hit)) { labels[i] = hit.Label; Interlocked.Increment(ref _cacheHits); continue; }
            if (missByKey.TryGetValue(keys[i], out var positions)) { positions.Add(i); Interlocked.Increment(ref _cacheHits); continue; }
            missByKey[keys[i]] = positions = [i];
            misses.Add((keys[i], items[i], positions));
        }
        foreach (var chunk in misses.Chunk(_commitEvery))
        {
            cancellationToken.ThrowIfCancellationRequested();
            Interlocked.Add(ref _innerCalls, chunk.Length);
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            var scored = await Inner.ScoreBatchAsync(chunk.Select(m => m.Item).ToArray(), maxConcurrency, cancellationToken);
            double each = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds / chunk.Length;
            for (int j = 0; j < scored.Length; j++) scored[j] = Stamp(scored[j], each);
            Store.PutLabels(chunk.Select((m, j) => Stored(m.Key, m.Item.Prompt, m.Item.Response, scored[j])));
            for (int j = 0; j < chunk.Length; j++)
                foreach (int position in chunk[j].Positions) labels[position] = scored[j];
        }
        return labels;
    }

    /// <summary>
    /// Completes a new label's provenance where the source left it open: the source's fingerprint, when it was made and
    /// how long scoring took (a batch's time shared equally among its items), so the stored label is whole.
    /// </summary>
    FeedbackLabel? Stamp(FeedbackLabel? label, double elapsedMs) => label is null ? null : label with
    {
        Provenance = label.Provenance with
        {
            Fingerprint = label.Provenance.Fingerprint ?? Fingerprint,
            CreatedAt = label.Provenance.CreatedAt ?? DateTimeOffset.UtcNow,
            ElapsedMs = label.Provenance.ElapsedMs ?? elapsedMs,
        },
    };

    StoredLabel Stored(string key, PromptRecord prompt, string response, FeedbackLabel? label) =>
        new(key, Fingerprint, Name, prompt, response, label, label?.Provenance.CreatedAt ?? DateTimeOffset.UtcNow);
}
