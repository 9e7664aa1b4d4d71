using System.Text.Json;
using AlignSharp.Feedback.Store;
using AlignSharp.Feedback.Tests.Store;
using static AlignSharp.Feedback.Tests.Judges.JudgeTestKit;

namespace AlignSharp.Feedback.Tests.Judges;

/// <summary>An unparsable judge answer is kept everywhere a label goes, and skipped everywhere a score is read.</summary>
public class UnparsableLabelTests
{
    static readonly Provenance Judge = new("judge:x", SignalKind.Judge, Model: "m", TemplateHash: "0123456789abcdef");
    static FeedbackLabel Scored(double s) => new(s, $"{s}", new Provenance("v", SignalKind.Verifier));
    static FeedbackLabel Unparsable => FeedbackLabel.UnparsableAnswer("I am not sure", Judge);

    [Fact]
    public void Pair_builders_skip_it()
    {
        var prompt = Prompt();
        // Scored 0.2 and 0.9, and an unparsable label (score 0) that must not become the rejected response.
        var pair = PreferencePairs.Build(prompt, ["x", "y", "z"], [Scored(0.2), Unparsable, Scored(0.9)])!;
        Assert.Equal(("z", "x"), (pair.Chosen, pair.Rejected));
        Assert.Null(PreferencePairs.Build(prompt, ["x", "y"], [Scored(0.5), Unparsable]));
        Assert.Equal(["x"], PreferencePairs.BuildUnpaired(prompt, ["x", "y"], [Scored(0.7), Unparsable]).Select(u => u.Completion));
    }

    sealed class Fixed(string name, FeedbackLabel? label) : ISignalSource
    {
        public string Name => name;
        public string Fingerprint => SignalFingerprint.Of(name, 1);
        public FeedbackLabel? Score(PromptRecord prompt, string response) => label;
    }

    [Fact]
    public void Compositions_skip_it_and_are_unparsable_only_when_nothing_else_applied()
    {
        var prompt = Prompt();
        var sum = new WeightedSum((new Fixed("judge", Unparsable), 1), (new Fixed("check", Scored(0.25)), 1)).Score(prompt, "r")!;
        Assert.Equal(0.25, sum.Score);
        Assert.False(sum.Unparsable);
        Assert.True(new WeightedSum((new Fixed("judge", Unparsable), 1), (new Fixed("none", null), 1)).Score(prompt, "r")!.Unparsable);
        Assert.Null(new WeightedSum((new Fixed("none", null), 1)).Score(prompt, "r"));
        Assert.Equal(0.25, new Lexicographic(new Fixed("judge", Unparsable), new Fixed("check", Scored(0.25))).Score(prompt, "r")!.Score);
        Assert.True(new Lexicographic(new Fixed("judge", Unparsable)).Score(prompt, "r")!.Unparsable);
        Assert.Equal(0.25, new FirstApplicable("first", new Fixed("judge", Unparsable), new Fixed("check", Scored(0.25))).Score(prompt, "r")!.Score);
        Assert.True(new FirstApplicable("first", new Fixed("judge", Unparsable), new Fixed("none", null)).Score(prompt, "r")!.Unparsable);
    }

    [Fact]
    public void It_survives_a_labels_export_and_import_and_a_scored_line_has_no_flag()
    {
        var prompt = Prompt();
        var stored = new StoredLabel(LabelKey.Of("judge:x@v1", prompt, "r"), "judge:x@v1", "judge:x", prompt, "r", Unparsable, DateTimeOffset.UnixEpoch);
        string line = PromptJson.Text(w => LabelJson.Write(w, stored));
        Assert.Contains("\"score\":null,\"unparsable\":true,\"rationale\":\"unparsable: I am not sure\"", line);
        using var doc = JsonDocument.Parse(line);
        var back = LabelJson.Read(doc.RootElement, "labels.jsonl:1");
        StoreTestKit.SameLabel(Unparsable, back.Label);
        Assert.True(back.Label!.Unparsable);

        string scored = PromptJson.Text(w => LabelJson.Write(w, stored with { Label = Scored(0.5) }));
        Assert.DoesNotContain("unparsable", scored);
        using var bad = JsonDocument.Parse(line.Replace("\"score\":null", "\"score\":1"));
        var e = Assert.Throws<FeedbackException>(() => LabelJson.Read(bad.RootElement, "labels.jsonl:2"));
        Assert.Equal("labels.jsonl:2: an unparsable label has no score; give \"score\": null or remove \"unparsable\"", e.Message);
    }

    [Fact]
    public void The_store_keeps_it_without_a_score_so_aggregates_never_read_one()
    {
        using var folder = StoreTestKit.Folder();
        using var store = FeedbackStore.Open(folder.File("f.db"));
        var prompt = Prompt();
        var judge = new Fixed("judge:x", null);
        store.PutLabels([StoredLabel.For(judge, prompt, "a", Unparsable), StoredLabel.For(judge, prompt, "b", Scored(1)), StoredLabel.For(judge, prompt, "c", null)]);
        var stats = Assert.Single(store.Statistics().Sources);
        Assert.Equal((3, 1, 1, 1.0), (stats.Labels, stats.NotApplicable, stats.Unparsable, stats.MeanScore!.Value));
        var labels = store.Labels();
        Assert.True(labels[0].Label!.Unparsable);
        Assert.Equal("unparsable: I am not sure", labels[0].Label!.Rationale);
        Assert.False(labels[1].Label!.Unparsable);
        Assert.Null(labels[2].Label);
    }
}
