using AlignSharp.Cli;
using AlignSharp.Feedback;
using AlignSharp.Feedback.Judges;
using AlignSharp.Feedback.Store;
using Microsoft.Extensions.AI;

namespace AlignSharp.Cli.Tests;

/// <summary>`alignsharp store stats` on a store with a judge, a check and a pairwise judge: unparsable answers, accuracy against the check, position bias.</summary>
public class StoreStatsJudgeTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("alignsharp-stats-judge-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    /// <summary>Answers from a function of the user message; names its model.</summary>
    sealed class Scripted(Func<string, string> answer) : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, answer(messages.Last().Text))));
        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();
        public object? GetService(Type serviceType, object? serviceKey = null) => serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("scripted", null, "judge-model") : null;
        public void Dispose() { }
    }

    sealed class RefusalCheck : ISignalSource
    {
        public string Name => "refusal-check";
        public string Fingerprint => SignalFingerprint.Of(Name, 1);
        public FeedbackLabel? Score(PromptRecord prompt, string response) =>
            new(response.StartsWith("No") ? 1 : 0, "", new Provenance(Name, SignalKind.Verifier));
    }

    static string Response(string user) => user.Split('\n').First(l => l.StartsWith("Response: "))["Response: ".Length..];

    string BuildStore()
    {
        string db = Path.Combine(_folder, "feedback.db");
        using var store = FeedbackStore.Open(db);
        var prompts = Enumerable.Range(0, 5).Select(i => new PromptRecord($"q{i}", $"harmful request {i}", "harmful", new Dictionary<string, string>())).ToArray();
        // Responses: "No." (refusal) and "Sure {i}" per prompt: 10 items.
        var items = prompts.SelectMany(p => new[] { new SignalItem(p, "No."), new SignalItem(p, $"Sure {p.Id}") }).ToArray();
        // The judge agrees with the check except on "Sure q0" (says Yes); on "Sure q1" it rambles (unparsable).
        var judge = new PrincipleJudge(new Scripted(user => Response(user) switch
        {
            "No." => "Yes",
            "Sure q0" => "Yes",
            "Sure q1" => "Hard to say.",
            _ => "No",
        }), "Decline harmful requests.", "harmless");
        new CachingSignalSource(new RefusalCheck(), store).ScoreBatchAsync(items).AsTask().GetAwaiter().GetResult();
        new CachingSignalSource(judge, store).ScoreBatchAsync(items).AsTask().GetAwaiter().GetResult();
        // A pairwise judge that always picks the first shown: every pair flips.
        var pairwise = new PairwiseJudge(new Scripted(_ => "A"), store: store);
        pairwise.JudgeBatchAsync(prompts.Select(p => new PairItem(p, "No.", $"Sure {p.Id}")).ToArray()).GetAwaiter().GetResult();
        return db;
    }

    static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter(); var stderr = new StringWriter();
        int code = CommandLine.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Stats_show_unparsable_answers_accuracy_against_a_reference_and_position_bias()
    {
        string db = BuildStore();
        var (code, output, err) = Run("store", "stats", "--db", db, "--reference", "refusal-check");
        Assert.True(code == 0, err);
        Assert.Matches(@"source\s+fingerprint\s+labels\s+n/a\s+unparsable\s+mean\n", output);
        Assert.Matches(@"refusal-check\s+refusal-check@v1\s+10\s+0\s+0\s+0\.5\n", output);
        Assert.Matches(@"judge:harmless\s+judge:harmless@v1#\w+\s+10\s+0\s+1\s+0\.667\n", output);  // yes on the 5 refusals and "Sure q0": 6 of 9 readable
        // 9 readable items shared: both good 5 (the refusals), only judge good 1 (Sure q0), both bad 3. Accuracy 8/9.
        Assert.Matches(@"refusal-check\s+judge:harmless\s+9\s+88\.9%\s+5\s+3\s+0\.769\n", output);  // pₑ = 5/9·6/9 + 4/9·3/9 = 42/81; κ = (72/81 − 42/81) / (39/81) = 30/39
        Assert.Contains("against refusal-check as ground truth (good = score ≥ 0.5):", output);
        Assert.Matches(@"judge:harmless\s+9\s+88\.9%\s+1\s+0\s+0\.769\n", output);
        Assert.Contains("pairwise judges (a pair flips when its verdict changes with the order", output);
        Assert.Matches(@"pairwise:p\w+\s+pairwise:p\w+@v1#\w+\s+10\s+0\s+5\s+5 \(100\.0%\)\s+5\s+0\n", output);
    }

    [Fact]
    public void Min_shared_hides_pairs_with_too_few_items_and_a_bad_reference_is_named()
    {
        string db = BuildStore();
        var (code, output, _) = Run("store", "stats", "--db", db, "--min-shared", "10");
        Assert.Equal(0, code);
        Assert.Contains("agreement: no two sources share 10 or more scored items", output);
        var (bad, _, err) = Run("store", "stats", "--db", db, "--reference", "oracle");
        Assert.Equal(2, bad);
        Assert.Contains("store stats: --reference oracle: no such source in", err);
        Assert.Contains("known: refusal-check, judge:harmless", err);
    }
}
