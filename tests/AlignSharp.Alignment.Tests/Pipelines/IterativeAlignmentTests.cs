using AlignSharp.Alignment.Pipelines;
using AlignSharp.Eval.Reports;
using AlignSharp.Feedback.Store;

namespace AlignSharp.Alignment.Tests;

/// <summary>The loop as a library: a tiny run end to end without the CLI, and what the feedback store saves on a re-run.</summary>
public class IterativeAlignmentTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-loop-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    private static string Repo([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", ".."));

    private DemoOptions Tiny(string method = "dpo") => new()
    {
        Name = "tiny-" + method, RunsDir = _dir, Constitution = Path.Combine(Repo(), "recipes", "constitution.yaml"),
        SftConversations = 240, TrainPrompts = 24, EvalPrompts = 30, SftEpochs = 1, HiddenSize = 32, Layers = 1, Heads = 2, KvHeads = 1,
        IntermediateSize = 64, TokenizerVocabSize = 400, Rounds = 1, SamplesPerPrompt = 3, MaxNewTokens = 8, AlignEpochs = 1, ReportSamples = 4, Method = method,
    };

    private static (LoopResult Result, long Calls, long Reused, string Table) Run(DemoOptions options, bool resume)
    {
        using var loop = new IterativeAlignment(options, TextWriter.Null, resume);
        var result = loop.Run();
        var table = new StringWriter();
        AlignSharp.Eval.Reports.AlignmentReport.Table(result.Rows, table);
        return (result, loop.ScoringCalls, loop.StoredLabelsReused, table.ToString());
    }

    [Theory]
    [InlineData("dpo")]
    [InlineData("kto")]
    public void A_rerun_pays_for_no_label_twice_and_gives_the_same_table(string method)
    {
        var options = Tiny(method);
        var first = Run(options, resume: false);
        Assert.Equal(2, first.Result.Rows.Count);
        Assert.True(first.Calls > 0);
        string db = Path.Combine(options.RunDir, "feedback.db");
        long labels, generations;
        using (var store = FeedbackStore.Open(db)) { labels = store.LabelCount; generations = store.GenerationCount; }
        Assert.Equal(first.Calls, labels);
        Assert.Equal(options.TrainPrompts * options.SamplesPerPrompt, generations);

        // A fresh run of the same recipe samples the same responses again: every label comes from the store.
        var again = Run(options, resume: false);
        Assert.Equal(0, again.Calls);
        Assert.True(again.Reused > 0);
        Assert.Equal(first.Table, again.Table);

        // Resuming a finished run skips every stage and scores nothing.
        var resumed = Run(options, resume: true);
        Assert.Equal(0, resumed.Calls);
        Assert.Equal(first.Table, resumed.Table);
        using (var store = FeedbackStore.Open(db)) { Assert.Equal(labels, store.LabelCount); Assert.Equal(generations, store.GenerationCount); }
    }

    [Fact]
    public void An_interrupted_round_resumes_scoring_only_what_is_missing()
    {
        var options = Tiny();
        var first = Run(options, resume: false);
        // Cut the run off before its pairs stage finished: the marker and the round's outputs are gone, the store is not.
        File.Delete(Path.Combine(options.RunDir, "stages", "round-1-pairs.done"));
        File.Delete(Path.Combine(options.RunDir, "stages", "round-1-train.done"));
        Directory.Delete(Path.Combine(options.RunDir, "round-1"), true);
        var resumed = Run(options, resume: true);
        Assert.Equal(0, resumed.Calls);
        Assert.Equal(first.Table, resumed.Table);
        Assert.True(File.Exists(Path.Combine(options.RunDir, "round-1", "pairs.jsonl")));
    }

    [Fact]
    public void A_given_model_folder_with_sft_epochs_0_is_aligned_as_it_is()
    {
        var first = Tiny();
        Run(first with { Rounds = 0 }, resume: false);
        string sft = Path.Combine(first.RunDir, "sft");
        var options = first with { Name = "from-folder", Model = sft, SftEpochs = 0 };
        var (result, calls, _, _) = Run(options, resume: false);
        Assert.Equal(sft, result.Rows[0].ModelDir);
        Assert.Equal(2, result.Rows.Count);
        Assert.True(calls > 0);
        Assert.False(Directory.Exists(Path.Combine(options.RunDir, "sft")));
        Assert.True(File.Exists(Path.Combine(options.RunDir, "round-1", "model", "model.safetensors")));
    }
}

/// <summary>signal: judge — a judge trained on the world, served on loopback, asked over the OpenAI API, every verdict through the store.</summary>
public class JudgedLoopTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-judged-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    private static string Repo([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", ".."));

    private DemoOptions Tiny => new()
    {
        Name = "tiny-judge", RunsDir = _dir, Constitution = Path.Combine(Repo(), "recipes", "constitution.yaml"), Signal = "judge",
        SftConversations = 240, TrainPrompts = 16, EvalPrompts = 20, SftEpochs = 1, HiddenSize = 32, Layers = 1, Heads = 2, KvHeads = 1,
        IntermediateSize = 64, TokenizerVocabSize = 400, Rounds = 1, SamplesPerPrompt = 2, MaxNewTokens = 6, AlignEpochs = 1, ReportSamples = 2,
        JudgeExamples = 16, JudgeEpochs = 1, JudgeConcurrency = 4,
    };

    [Fact]
    public void The_judge_labels_over_the_api_and_a_rerun_asks_it_nothing()
    {
        var options = Tiny;
        long calls;
        JudgedEvaluation judged;
        using (var loop = new IterativeAlignment(options, TextWriter.Null, resume: false))
        {
            var result = loop.Run();
            calls = loop.ScoringCalls;
            judged = result.Judged!;
            Assert.NotNull(judged);
            Assert.Contains("served on http://127.0.0.1:", judged.Judge);
            Assert.Equal(result.Rows.Count, judged.Rows.Count);
            Assert.Equal(["help_benign", "refuse_harmful"], judged.Agreement.Select(a => a.SourceA.Replace("judge: ", "")).Order());
            // Accuracy and format come from the checks in both tables.
            Assert.Equal(result.Rows[^1].Scores.VerifiableAccuracy, judged.Rows[^1].Scores.VerifiableAccuracy);
            loop.WriteReport(result, Path.Combine(options.RunDir, "report.html"), TimeSpan.Zero);
        }
        Assert.True(calls > 0);
        Assert.True(File.Exists(Path.Combine(options.RunDir, "judge", "model.safetensors")));
        Assert.Contains("judged by the judge", File.ReadAllText(Path.Combine(options.RunDir, "report.html")));
        using (var store = FeedbackStore.Open(Path.Combine(options.RunDir, "feedback.db")))
        {
            // Each judged principle's verdicts on the evaluated responses are in the store (a one-epoch judge may answer
            // off-script: those are kept as unparsable labels, not asked again).
            var judges = store.Statistics(0.5).Sources.Where(s => s.Source.StartsWith(PrincipleSourcePrefix, StringComparison.Ordinal)).ToList();
            Assert.Equal(2, judges.Count);
            Assert.All(judges, j => Assert.True(j.Labels > 0));
        }

        // The same recipe again (resumed: the judge stage is done; its folder is served on a new port): every verdict from the store.
        using var again = new IterativeAlignment(options, TextWriter.Null, resume: true);
        var second = again.Run();
        Assert.Equal(0, again.ScoringCalls);
        Assert.Equal(judged.Rows.Select(r => r.Scores), second.Judged!.Rows.Select(r => r.Scores));
    }

    private const string PrincipleSourcePrefix = "judge:";
}
