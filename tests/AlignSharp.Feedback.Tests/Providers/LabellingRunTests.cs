using AlignSharp.Feedback.Providers;
using AlignSharp.Feedback.Store;
using AlignSharp.Feedback.Tests.Store;
using static AlignSharp.Feedback.Tests.Providers.EndpointTestKit;

namespace AlignSharp.Feedback.Tests.Providers;

/// <summary>Labelling runs through the whole path — endpoint client, resilience, a model-backed source, the feedback store — against a faulty server.</summary>
public class LabellingRunTests
{
    static readonly Fault[] Faults = Enum.GetValues<Fault>().Where(f => f is not (Fault.None or Fault.Unauthorized)).ToArray();

    [Fact]
    public async Task A_run_through_every_fault_ends_with_each_label_once_and_no_answer_paid_twice()
    {
        await using var server = await FaultServer.StartAsync();
        server.RetryAfterHeader = "0";
        // Every request meets a fault (chosen by its content) the first time it arrives, and is answered the second.
        server.Rule = (key, earlier) => earlier == 0 ? Faults[Convert.ToInt32(key[..4], 16) % Faults.Length] : Fault.None;
        server.SlowFirstByte = TimeSpan.FromSeconds(30);
        using var folder = StoreTestKit.Folder();
        using var store = FeedbackStore.Open(folder.File("feedback.db"));
        var options = Judge(server, maxConcurrency: 16);
        using var client = ChatProviders.Create(options);
        var source = new ChatScoreSource(client, options.Identity);
        var items = Items(50);

        // One chunk, 16 at a time: the items that hang cost one attempt timeout each, side by side rather than in turn.
        var labels = await new CachingSignalSource(source, store).ScoreBatchAsync(items, maxConcurrency: 16);

        Assert.All(labels, l => Assert.InRange(l!.Score, 0.2, 1.0));
        Assert.Equal(50, store.LabelCount);
        Assert.Equal(50, store.Labels(source.Name).Select(l => l.Key).Distinct().Count());
        Assert.Equal(50, server.AnswersPerRequest.Count);
        Assert.All(server.AnswersPerRequest.Values, n => Assert.Equal(1, n)); // no successful call repeated
        Assert.Equal(100, server.Requests);                                    // one fault and one answer each
        Assert.Equal(50, source.Calls);

        // A re-run asks the endpoint nothing.
        var again = new CachingSignalSource(source, store);
        var relabelled = await again.ScoreBatchAsync(items, maxConcurrency: 8);
        Assert.Equal(labels.Select(l => l!.Score), relabelled.Select(l => l!.Score));
        Assert.Equal((0, 50), (again.InnerCalls, again.CacheHits));
        Assert.Equal(100, server.Requests);
    }

    [Fact]
    public async Task An_endpoint_down_for_good_stops_the_run_clearly_and_a_rerun_scores_only_what_is_missing()
    {
        await using var server = await FaultServer.StartAsync();
        server.DownAfterAnswers = 20;
        using var folder = StoreTestKit.Folder();
        string path = folder.File("feedback.db");
        var options = Judge(server, maxRetries: 2);
        var items = Items(50);

        using (var store = FeedbackStore.Open(path))
        using (var client = ChatProviders.Create(options))
        {
            var run = new CachingSignalSource(new ChatScoreSource(client, options.Identity), store, commitEvery: 5);
            var error = await Assert.ThrowsAsync<FeedbackException>(async () => await run.ScoreBatchAsync(items, maxConcurrency: 4));
            Assert.Contains("gave up after 3 attempts; last: HTTP 503", error.Message);
            Assert.Equal(20, store.LabelCount); // the four chunks answered before the endpoint went down are kept
        }

        server.DownAfterAnswers = null; // healed
        using (var store = FeedbackStore.Open(path))
        using (var client = ChatProviders.Create(options))
        {
            var rerun = new CachingSignalSource(new ChatScoreSource(client, options.Identity), store, commitEvery: 5);
            var labels = await rerun.ScoreBatchAsync(items, maxConcurrency: 4);
            Assert.All(labels, Assert.NotNull);
            Assert.Equal((30L, 20L), (rerun.InnerCalls, rerun.CacheHits));
            Assert.Equal(50, store.LabelCount);
        }
        Assert.Equal(50, server.AnswersPerRequest.Count);
        Assert.All(server.AnswersPerRequest.Values, n => Assert.Equal(1, n));
    }
}
