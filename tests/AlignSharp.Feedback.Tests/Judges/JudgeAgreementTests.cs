using AlignSharp.Feedback.Judges;
using AlignSharp.Feedback.Store;
using AlignSharp.Feedback.Tests.Store;
using static AlignSharp.Feedback.Tests.Judges.JudgeTestKit;

namespace AlignSharp.Feedback.Tests.Judges;

public class JudgeAgreementTests
{
    static FeedbackLabel L(double score) => new(score, "", new Provenance("s", SignalKind.Judge));

    [Fact]
    public void Kappa_matches_the_textbook_two_by_two_table()
    {
        // 50 items: both yes 20, only A yes 5, only B yes 10, both no 15. pₒ = 35/50 = .7; A says yes .5, B .6;
        // pₑ = .5·.6 + .5·.4 = .5; κ = (.7 − .5) / (1 − .5) = .4.
        Assert.Equal(0.4, SourceAgreement.CohensKappa(20, 5, 10, 15)!.Value, 12);
        // Perfect agreement: κ = 1; agreement no better than chance: κ = 0 (25/25 each way, independent).
        Assert.Equal(1.0, SourceAgreement.CohensKappa(10, 0, 0, 5)!.Value, 12);
        Assert.Equal(0.0, SourceAgreement.CohensKappa(25, 25, 25, 25)!.Value, 12);
        // Both give every item the same verdict: pₑ = 1, κ undefined.
        Assert.Null(SourceAgreement.CohensKappa(7, 0, 0, 0));
    }

    [Fact]
    public void Accuracy_against_a_reference_skips_unscored_and_unparsable_items()
    {
        var judge = new FeedbackLabel?[] { L(0.9), L(0.2), L(0.7), L(0.4), null, FeedbackLabel.UnparsableAnswer("?", new Provenance("j", SignalKind.Judge)), L(0.6) };
        var truth = new FeedbackLabel?[] { L(1), L(0), L(0), L(1), L(1), L(1), L(1) };
        var a = JudgeAgreement.Of(judge, truth, 0.5, "judge", "verifier");
        // Scored by both: items 0, 1, 2, 3, 6. Judge good on 0, 2, 6; truth good on 0, 3, 6.
        Assert.Equal((2, 1, 1, 1), (a.BothGood, a.OnlyAGood, a.OnlyBGood, a.BothBad));
        Assert.Equal(5, a.Shared);
        Assert.Equal(0.6, a.Agreement, 12);
        // pₑ = .6·.6 + .4·.4 = .52; κ = (.6 − .52) / .48 = 1/6.
        Assert.Equal(1.0 / 6, a.Kappa!.Value, 12);
        Assert.Equal(("judge", "verifier"), (a.SourceA, a.SourceB));
    }

    [Fact]
    public async Task Agreement_between_a_judge_and_a_check_is_read_from_the_store_in_the_order_asked()
    {
        using var folder = StoreTestKit.Folder();
        using var store = FeedbackStore.Open(folder.File("f.db"));
        var items = Enumerable.Range(0, 8).Select(i => new SignalItem(Prompt($"q{i}"), i % 2 == 0 ? "I can't help with that." : $"Sure, step {i}")).ToArray();
        // The check calls refusals good; the judge agrees except on items 2 and 3.
        var check = new CachingSignalSource(new FixedSource("refusal-check", SignalKind.Verifier, r => r.StartsWith("I can't") ? 1 : 0), store);
        var judge = new CachingSignalSource(new PrincipleJudge(new ScriptedChatClient(user =>
            Field(user, "Request:") is "q2" or "q3" ? (Field(user, "Response:").StartsWith("I can't") ? "No" : "Yes")
            : Field(user, "Response:").StartsWith("I can't") ? "Yes" : "No"), "Decline harmful requests.", "harmless"), store);
        await check.ScoreBatchAsync(items);
        await judge.ScoreBatchAsync(items);
        var a = JudgeAgreement.Between(store, "judge:harmless", "refusal-check")!;
        Assert.Equal(("judge:harmless", "refusal-check"), (a.SourceA, a.SourceB));
        Assert.Equal((3, 1, 1, 3), (a.BothGood, a.OnlyAGood, a.OnlyBGood, a.BothBad));
        Assert.Equal(0.75, a.Agreement, 12);
        Assert.Equal(0.5, a.Kappa!.Value, 12);  // pₑ = .5, (.75 − .5) / .5
        var reversed = JudgeAgreement.Between(store, "refusal-check", "judge:harmless")!;
        Assert.Equal((3, 1, 1, 3), (reversed.BothGood, reversed.OnlyAGood, reversed.OnlyBGood, reversed.BothBad));
        Assert.Equal("refusal-check", reversed.SourceA);
        var e = Assert.Throws<FeedbackException>(() => JudgeAgreement.Between(store, "nobody", "refusal-check"));
        Assert.Contains("no source named 'nobody'; known: refusal-check, judge:harmless", e.Message);
    }
}

/// <summary>A programmatic source scoring by a function of the response.</summary>
sealed class FixedSource(string name, SignalKind kind, Func<string, double?> score) : ISignalSource
{
    public string Name => name;
    public string Fingerprint => SignalFingerprint.Of(name, 1);
    public FeedbackLabel? Score(PromptRecord prompt, string response) =>
        score(response) is { } s ? new FeedbackLabel(s, $"{name}: {s}", new Provenance(name, kind)) : null;
}
