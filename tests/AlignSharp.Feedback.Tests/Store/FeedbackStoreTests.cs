using AlignSharp.Feedback.Store;
using Microsoft.Data.Sqlite;
using static AlignSharp.Feedback.Tests.Store.StoreTestKit;

namespace AlignSharp.Feedback.Tests.Store;

/// <summary>The store itself: schema, WAL, labels and generations written, read back whole, and looked up by key.</summary>
public class FeedbackStoreTests
{
    [Fact]
    public void A_new_store_is_a_wal_database_with_its_schema_version()
    {
        using var folder = Folder();
        string path = folder.File("feedback.db");
        using (var store = FeedbackStore.Open(path)) Assert.Equal("ok", store.CheckIntegrity());
        using var raw = new SqliteConnection($"Data Source={path};Pooling=False");
        raw.Open();
        Assert.Equal("wal", Pragma(raw, "journal_mode"));
        Assert.Equal((long)FeedbackStore.SchemaVersion, Pragma(raw, "user_version"));
        Assert.Equal(0x41534653L, Pragma(raw, "application_id"));
    }

    [Fact]
    public void Labels_read_back_equal_after_reopening_not_applicable_included()
    {
        using var folder = Folder();
        string path = folder.File("feedback.db");
        var source = new CountingSource();
        var items = Items(3, 3).Append(new SignalItem(Prompt(9), "n/a here")).ToArray();
        var labels = items.Select(i => StoredLabel.For(source, i.Prompt, i.Response, source.Score(i.Prompt, i.Response))).ToArray();
        using (var store = FeedbackStore.Open(path)) Assert.Equal(items.Length, store.PutLabels(labels));
        using (var store = FeedbackStore.Open(path))
        {
            var back = store.Labels();
            Assert.Equal(labels.Length, back.Count);
            for (int i = 0; i < labels.Length; i++)
            {
                Assert.Equal(labels[i].Key, back[i].Key);
                Assert.Equal(labels[i].Fingerprint, back[i].Fingerprint);
                Assert.Equal(labels[i].Source, back[i].Source);
                Assert.Equal(PromptJson.Serialize(labels[i].Prompt), PromptJson.Serialize(back[i].Prompt));
                Assert.Equal(labels[i].Response, back[i].Response);
                Assert.Equal(labels[i].CreatedAt, back[i].CreatedAt);
                SameLabel(labels[i].Label, back[i].Label);
            }
            Assert.Null(back[^1].Label);
            Assert.Equal(0, store.PutLabels(labels));  // same keys: kept as they were
            Assert.Equal(labels.Length, store.LabelCount);
        }
    }

    [Fact]
    public void Prompts_with_any_role_and_a_provenance_missing_its_source_are_handled()
    {
        using var folder = Folder();
        using var store = FeedbackStore.Open(folder.File("feedback.db"));
        var prompt = new PromptRecord("dev", [new Microsoft.Extensions.AI.ChatMessage(new Microsoft.Extensions.AI.ChatRole("developer"), "rules"),
            new Microsoft.Extensions.AI.ChatMessage(Microsoft.Extensions.AI.ChatRole.User, "hi")], "", new Dictionary<string, string>());
        store.PutLabels([new StoredLabel(LabelKey.Of("s@v1", prompt, "r"), "s@v1", "s", prompt, "r", null, DateTimeOffset.UtcNow)]);
        Assert.Equal("developer", Assert.Single(store.Labels()).Prompt.Messages[0].Role.Value);
        var e = Assert.Throws<FeedbackException>(() => LabelJson.ParseProvenance("""{"kind":"verifier"}""", "x.jsonl:3"));
        Assert.StartsWith("x.jsonl:3: provenance is not valid", e.Message);
    }

    [Fact]
    public void Lookup_takes_any_number_of_keys_in_one_query()
    {
        using var folder = Folder();
        using var store = FeedbackStore.Open(folder.File("feedback.db"));
        var source = new CountingSource();
        var items = Items(500, 5);
        store.PutLabels(items.Select(i => StoredLabel.For(source, i.Prompt, i.Response, source.Score(i.Prompt, i.Response))));
        var keys = items.Select(i => LabelKey.Of(source.Fingerprint, i.Prompt, i.Response)).Concat(["absent"]).ToArray();
        var found = store.LookupLabels(keys);
        Assert.Equal(items.Length, found.Count);
        Assert.False(found.ContainsKey("absent"));
        Assert.Equal("response 2!! to 7", found[LabelKey.Of(source.Fingerprint, Prompt(7), "response 2!! to 7")].Response);
    }

    [Fact]
    public void Labels_filter_by_source_name_or_fingerprint()
    {
        using var folder = Folder();
        using var store = FeedbackStore.Open(folder.File("feedback.db"));
        var a = new CountingSource("a");
        var b = new CountingSource("b", version: 2);
        var items = Items(2, 2);
        foreach (var s in new[] { a, b }) store.PutLabels(items.Select(i => StoredLabel.For(s, i.Prompt, i.Response, s.Score(i.Prompt, i.Response))));
        Assert.Equal(8, store.Labels().Count);
        Assert.All(store.Labels("a"), l => Assert.Equal("a", l.Source));
        Assert.Equal(4, store.Labels(b.Fingerprint).Count);
        Assert.Equal([(a.Fingerprint, "a", 4), (b.Fingerprint, "b", 4)], store.Sources());
    }

    [Fact]
    public void The_key_is_the_content_not_the_prompt_id()
    {
        var p1 = Prompt(1);
        var renamed = p1 with { Id = "other" };
        var recategorised = p1 with { Category = "other" };
        Assert.Equal(LabelKey.Of("s@v1", p1, "r"), LabelKey.Of("s@v1", renamed, "r"));
        Assert.NotEqual(LabelKey.Of("s@v1", p1, "r"), LabelKey.Of("s@v1", recategorised, "r"));
        Assert.NotEqual(LabelKey.Of("s@v1", p1, "r"), LabelKey.Of("s@v2", p1, "r"));
        Assert.NotEqual(LabelKey.Of("s@v1", p1, "r"), LabelKey.Of("s@v1", p1, "r "));
        var reordered = p1 with { Metadata = p1.Metadata.Reverse().ToDictionary() };
        Assert.Equal(LabelKey.Of("s@v1", p1, "r"), LabelKey.Of("s@v1", reordered, "r"));
    }

    [Fact]
    public void A_non_finite_score_is_refused_by_name()
    {
        using var folder = Folder();
        using var store = FeedbackStore.Open(folder.File("feedback.db"));
        var label = new FeedbackLabel(double.NaN, "x", new Provenance("nan-source", SignalKind.Verifier));
        var e = Assert.Throws<FeedbackException>(() => store.PutLabels([new StoredLabel("k", "nan-source@v1", "nan-source", Prompt(1), "r", label, DateTimeOffset.UtcNow)]));
        Assert.Contains("nan-source", e.Message);
        Assert.Contains("finite", e.Message);
        Assert.Equal(0, store.LabelCount);
    }

    [Fact]
    public void Generations_keep_tokens_logprobs_and_are_not_stored_twice()
    {
        using var folder = Folder();
        string path = folder.File("feedback.db");
        var rollouts = new[]
        {
            new Rollout(Prompt(1), [1, 2, 3], [7, 8, -1, int.MaxValue], [-0.5f, -1.25f, float.Epsilon, -30f], "hello", FinishReason.Stop, 17, "policy-round-1"),
            new Rollout(Prompt(1), [1, 2, 3], [7, 8, -1, int.MaxValue], [-0.5f, -1.25f, float.Epsilon, -30f], "hello", FinishReason.Stop, 17, "policy-round-1"),
            new Rollout(Prompt(2), [4], [9], [-2f], "bye", FinishReason.Length, 17, "policy-round-1"),
        };
        using (var store = FeedbackStore.Open(path))
        {
            Assert.Equal(3, store.AddGenerations(rollouts));  // two equal samples of one prompt are two generations
            Assert.Equal(0, store.AddGenerations(rollouts));  // a re-run of the same sampling adds nothing
            Assert.Equal(1, store.AddGenerations([new SignalItem(Prompt(3), "text only")], model: "m"));
        }
        using (var store = FeedbackStore.Open(path))
        {
            var back = store.Generations();
            Assert.Equal(4, back.Count);
            for (int i = 0; i < 3; i++)
            {
                var r = back[i].ToRollout()!;
                Assert.Equal(rollouts[i].PromptIds, r.PromptIds);
                Assert.Equal(rollouts[i].CompletionIds, r.CompletionIds);
                Assert.Equal(rollouts[i].LogProbs, r.LogProbs);
                Assert.Equal(rollouts[i].Text, r.Text);
                Assert.Equal(rollouts[i].Finish, r.Finish);
                Assert.Equal(rollouts[i].Seed, r.Seed);
                Assert.Equal(rollouts[i].Model, r.Model);
                Assert.Equal(PromptJson.Serialize(rollouts[i].Prompt), PromptJson.Serialize(r.Prompt));
            }
            Assert.Null(back[3].ToRollout());
            Assert.Equal("text only", back[3].Response);
            Assert.Equal("m", back[3].Model);
            Assert.Equal(4, store.GenerationCount);
        }
    }

    [Fact]
    public void Statistics_count_labels_per_source_and_their_agreement()
    {
        using var folder = Folder();
        using var store = FeedbackStore.Open(folder.File("feedback.db"));
        var items = Items(1, 6);
        // a: good on 0-2, b: good on 0,1,3; c: does not apply to anything; 2×2 table: both good 2, only a 1, only b 1, both bad 2.
        double[] a = [1, 1, 1, 0, 0, 0], b = [0.9, 0.5, 0.2, 0.7, 0.1, 0];
        Put(store, "a", items, a);
        Put(store, "b", items, b);
        store.PutLabels(items.Select(i => new StoredLabel(LabelKey.Of("c@v1", i.Prompt, i.Response), "c@v1", "c", i.Prompt, i.Response, null, DateTimeOffset.UtcNow)));
        var stats = store.Statistics();
        Assert.Equal(18, stats.Labels);
        Assert.Equal(["a", "b", "c"], stats.Sources.Select(s => s.Source));
        Assert.Equal(0.5, stats.Sources[0].MeanScore!.Value, 12);
        Assert.Equal(6, stats.Sources[2].NotApplicable);
        Assert.Null(stats.Sources[2].MeanScore);
        var ab = Assert.Single(stats.Agreements);
        Assert.Equal(("a", "b", 6, 2, 1, 1, 2), (ab.SourceA, ab.SourceB, ab.Shared, ab.BothGood, ab.OnlyAGood, ab.OnlyBGood, ab.BothBad));
        Assert.Equal(4 / 6.0, ab.Agreement, 12);
        Assert.Equal(1 / 3.0, ab.Kappa!.Value, 12);  // pₑ = ½·½ + ½·½ = ½, κ = (⅔ − ½)/(1 − ½)
    }

    [Fact]
    public void Cohens_kappa_matches_hand_computed_tables()
    {
        Assert.Equal(1.0, SourceAgreement.CohensKappa(5, 0, 0, 5)!.Value, 12);
        Assert.Equal(-1.0, SourceAgreement.CohensKappa(0, 5, 5, 0)!.Value, 12);
        // Cohen's textbook example: 20 both yes, 5 / 10 disagree, 15 both no: pₒ = .7, pₑ = .5, κ = .4
        Assert.Equal(0.4, SourceAgreement.CohensKappa(20, 5, 10, 15)!.Value, 12);
        Assert.Null(SourceAgreement.CohensKappa(7, 0, 0, 0));  // every item good for both: chance agreement 1, κ undefined
        Assert.Null(SourceAgreement.CohensKappa(0, 0, 0, 0));
    }

    static void Put(FeedbackStore store, string name, SignalItem[] items, double[] scores) =>
        store.PutLabels(items.Select((i, k) => new StoredLabel(LabelKey.Of(name + "@v1", i.Prompt, i.Response), name + "@v1", name, i.Prompt, i.Response,
            new FeedbackLabel(scores[k], "r", new Provenance(name, SignalKind.Verifier)), DateTimeOffset.UtcNow)));

    static object Pragma(SqliteConnection connection, string name)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA {name}";
        return command.ExecuteScalar()!;
    }
}
