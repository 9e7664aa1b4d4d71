using AlignSharp.Feedback.Store;
using AlignSharp.Feedback.StoreChild;

// usage: AlignSharp.Feedback.StoreChild DB SIZE,SIZE,...
// Scores consecutive batches of the given sizes through a CachingSignalSource, each batch one committed
// transaction, printing "committed N" after batch N and "done inner=X hits=Y" at the end.
string db = args[0];
int[] sizes = args[1].Split(',').Select(int.Parse).ToArray();
using var store = FeedbackStore.Open(db);
var cache = new CachingSignalSource(new ChildSource(), store, commitEvery: sizes.Max());
int start = 0;
for (int b = 0; b < sizes.Length; b++)
{
    var items = Enumerable.Range(start, sizes[b]).Select(ChildSource.Item).ToArray();
    start += sizes[b];
    await cache.ScoreBatchAsync(items);
    Console.WriteLine($"committed {b + 1}");
}
Console.WriteLine($"done inner={cache.InnerCalls} hits={cache.CacheHits}");
