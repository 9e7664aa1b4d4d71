using AlignSharp.Feedback.Store;
using static AlignSharp.Feedback.Tests.Store.StoreTestKit;

namespace AlignSharp.Feedback.Tests.Store;

/// <summary>The caching wrapper: a re-run scores nothing twice, and cached labels equal the originals.</summary>
public class CachingSignalSourceTests
{
    [Fact]
    public async Task A_rerun_makes_zero_repeated_scoring_calls_and_returns_equal_labels()
    {
        using var folder = Folder();
        string path = folder.File("feedback.db");
        var items = Items(10, 4).Append(new SignalItem(Prompt(99), "n/a: not applicable")).ToArray();
        FeedbackLabel?[] first;
        var source = new CountingSource();
        using (var store = FeedbackStore.Open(path))
        {
            var cached = new CachingSignalSource(source, store);
            first = await cached.ScoreBatchAsync(items, maxConcurrency: 4);
            Assert.Equal(items.Length, source.Calls);
            Assert.Equal((items.Length, 0L), (cached.InnerCalls, cached.CacheHits));
        }
        var again = new CountingSource();
        using (var store = FeedbackStore.Open(path))  // a new process would open the file just so
        {
            var cached = new CachingSignalSource(again, store);
            var second = await cached.ScoreBatchAsync(items, maxConcurrency: 4);
            Assert.Equal(0, again.Calls);
            Assert.Equal((0L, (long)items.Length), (cached.InnerCalls, cached.CacheHits));
            for (int i = 0; i < items.Length; i++) SameLabel(first[i], second[i]);
            Assert.Null(second[^1]);  // "does not apply" is answered from the store too
            for (int i = 0; i < 3; i++)
            {
                SameLabel(first[i], cached.Score(items[i].Prompt, items[i].Response));
                SameLabel(first[i], await cached.ScoreAsync(items[i].Prompt, items[i].Response));
            }
            Assert.Equal(0, again.Calls);
        }
    }

    [Fact]
    public async Task An_interrupted_run_resumes_scoring_only_what_was_not_committed()
    {
        using var folder = Folder();
        using var store = FeedbackStore.Open(folder.File("feedback.db"));
        var items = Items(25, 4);  // 100 items, committed 10 at a time
        var failing = new FailingSource(failAfter: 35);
        var cached = new CachingSignalSource(failing, store, commitEvery: 10);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await cached.ScoreBatchAsync(items));
        Assert.Equal(30, store.LabelCount);  // three whole chunks; the fourth, interrupted, left nothing

        var source = new CountingSource();
        var resumed = new CachingSignalSource(source, store, commitEvery: 10);
        var labels = await resumed.ScoreBatchAsync(items);
        Assert.Equal(70, source.Calls);
        Assert.Equal((70L, 30L), (resumed.InnerCalls, resumed.CacheHits));
        Assert.Equal(100, store.LabelCount);
        for (int i = 0; i < items.Length; i++) SameLabel(new CountingSource().Score(items[i].Prompt, items[i].Response), labels[i]);
    }

    [Fact]
    public async Task A_repeated_item_in_one_batch_is_scored_once()
    {
        using var folder = Folder();
        using var store = FeedbackStore.Open(folder.File("feedback.db"));
        var source = new CountingSource();
        var cached = new CachingSignalSource(source, store);
        var item = Items(1, 1)[0];
        var renamed = item with { Prompt = item.Prompt with { Id = "same content, other id" } };
        var labels = await cached.ScoreBatchAsync([item, item, renamed]);
        Assert.Equal(1, source.Calls);
        Assert.Equal((1L, 2L), (cached.InnerCalls, cached.CacheHits));
        SameLabel(labels[0], labels[2]);
        Assert.Equal(1, store.LabelCount);
    }

    /// <summary>Leaves the provenance's fingerprint and timing open, as programmatic checks do.</summary>
    sealed class Bare : ISignalSource
    {
        public string Name => "bare";
        public string Fingerprint => SignalFingerprint.Of(Name, 1);
        public FeedbackLabel? Score(PromptRecord prompt, string response) => new(1, "ok", new Provenance(Name, SignalKind.Verifier));
    }

    [Fact]
    public async Task Stored_labels_carry_the_fingerprint_and_the_timing_the_source_left_open()
    {
        using var folder = Folder();
        using var store = FeedbackStore.Open(folder.File("feedback.db"));
        var cached = new CachingSignalSource(new Bare(), store);
        var before = DateTimeOffset.UtcNow;
        var labels = await cached.ScoreBatchAsync(Items(2, 2));
        var single = cached.Score(Prompt(9), "x");
        foreach (var label in labels.Append(single))
        {
            Assert.Equal("bare@v1", label!.Provenance.Fingerprint);
            Assert.InRange(label.Provenance.CreatedAt!.Value, before.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));
            Assert.True(label.Provenance.ElapsedMs >= 0);
        }
        var again = await new CachingSignalSource(new Bare(), store).ScoreBatchAsync(Items(2, 2));
        for (int i = 0; i < labels.Length; i++) SameLabel(labels[i], again[i]);
    }

    [Fact]
    public void The_sync_path_caches_too()
    {
        using var folder = Folder();
        using var store = FeedbackStore.Open(folder.File("feedback.db"));
        var source = new CountingSource();
        var cached = new CachingSignalSource(source, store);
        var items = Items(3, 2);
        var first = SignalBatch.Score(cached, items);
        var second = SignalBatch.Score(cached, items);
        Assert.Equal(items.Length, source.Calls);
        for (int i = 0; i < items.Length; i++) SameLabel(first[i], second[i]);
        Assert.Equal(((long)items.Length, (long)items.Length), (cached.InnerCalls, cached.CacheHits));
    }

    [Fact]
    public async Task Another_fingerprint_is_another_cache()
    {
        using var folder = Folder();
        using var store = FeedbackStore.Open(folder.File("feedback.db"));
        var items = Items(2, 2);
        await new CachingSignalSource(new CountingSource(version: 1), store).ScoreBatchAsync(items);
        var v2 = new CountingSource(version: 2);
        await new CachingSignalSource(v2, store).ScoreBatchAsync(items);
        Assert.Equal(items.Length, v2.Calls);  // a changed source is asked again
        Assert.Equal(2 * items.Length, store.LabelCount);
    }

    [Fact]
    public async Task Concurrent_batches_through_one_store_are_safe()
    {
        using var folder = Folder();
        using var store = FeedbackStore.Open(folder.File("feedback.db"));
        var source = new CountingSource();
        var cached = new CachingSignalSource(source, store, commitEvery: 7);
        var batches = Enumerable.Range(0, 8).Select(b => Items(10, 3, offset: b * 10)).ToArray();
        await Task.WhenAll(batches.Select(b => Task.Run(async () => await cached.ScoreBatchAsync(b, maxConcurrency: 3))));
        Assert.Equal(240, source.Calls);
        Assert.Equal(240, store.LabelCount);
        Assert.Equal("ok", store.CheckIntegrity());
    }

    /// <summary>Scores like <see cref="CountingSource"/>, but throws once it has been asked more than <paramref name="failAfter"/> items.</summary>
    sealed class FailingSource(int failAfter) : ISignalSource
    {
        readonly CountingSource _inner = new();
        public string Name => _inner.Name;
        public string Fingerprint => _inner.Fingerprint;

        public FeedbackLabel? Score(PromptRecord prompt, string response) =>
            _inner.Calls >= failAfter ? throw new InvalidOperationException("judge went away") : _inner.Score(prompt, response);
    }
}
