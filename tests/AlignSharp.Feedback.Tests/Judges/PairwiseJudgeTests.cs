using AlignSharp.Feedback.Judges;
using AlignSharp.Feedback.Store;
using AlignSharp.Feedback.Tests.Store;
using static AlignSharp.Feedback.Tests.Judges.JudgeTestKit;

namespace AlignSharp.Feedback.Tests.Judges;

public class PairwiseJudgeTests
{
    /// <summary>The two responses as shown in a rendered pairwise prompt.</summary>
    static (string First, string Second) Shown(string user) => (Field(user, "(A)"), Field(user, "(B)"));

    /// <summary>Always answers "A", whatever it is shown: pure position bias.</summary>
    static ScriptedChatClient BiasedToA() => new(_ => "A");

    /// <summary>Prefers the longer response, whichever position it is in.</summary>
    static ScriptedChatClient Fair() => new(user => Shown(user) is var (a, b) && a.Length == b.Length ? "tie" : Shown(user).First.Length > Shown(user).Second.Length ? "A" : "B");

    static PairItem[] Pairs(int n) => Enumerable.Range(0, n).Select(i => new PairItem(Prompt($"q{i}"), $"long answer {i}", $"short {i}")).ToArray();

    [Fact]
    public async Task A_judge_biased_to_the_first_position_gives_ties_and_flips_every_pair()
    {
        var judge = new PairwiseJudge(BiasedToA());
        var judgements = await judge.JudgeBatchAsync(Pairs(5));
        Assert.All(judgements, j =>
        {
            Assert.Equal(PairwisePreference.A, j.AFirst.Preferred);
            Assert.Equal(PairwisePreference.A, j.BFirst.Preferred);  // in the order shown: B first, so it picked B
            Assert.Equal(0.5, j.Verdict.ProbabilityA);               // (1 + (1 − 1)) / 2
            Assert.Equal(PairwisePreference.Tie, j.Verdict.Preferred);
            Assert.True(j.Flipped);
            Assert.Null(j.ToPreferencePair());
        });
        Assert.Equal(new PositionBias(5, 5, 5, 0), judge.Bias);
        Assert.Equal(1.0, judge.Bias.FlipRate);
    }

    [Fact]
    public async Task A_consistent_judge_gives_the_order_averaged_preference_and_no_flips()
    {
        var judge = new PairwiseJudge(Fair());
        var judgements = await judge.JudgeBatchAsync([.. Pairs(3), new PairItem(Prompt(), "short", "much longer answer"), new PairItem(Prompt(), "same", "same")]);
        Assert.Equal([PairwisePreference.A, PairwisePreference.A, PairwisePreference.A, PairwisePreference.B, PairwisePreference.Tie], judgements.Select(j => j.Verdict.Preferred));
        Assert.Equal([1.0, 1.0, 1.0, 0.0, 0.5], judgements.Select(j => j.Verdict.ProbabilityA!.Value));
        Assert.Equal(new PositionBias(5, 0, 0, 0), judge.Bias);
        var pair = judgements[3].ToPreferencePair()!;
        Assert.Equal(("much longer answer", "short"), (pair.Chosen, pair.Rejected));
        Assert.Equal(1.0, pair.Margin);
    }

    [Fact]
    public async Task Soft_labels_average_the_two_orders_normalised_probabilities()
    {
        // Shown (good, bad): P(A) = .8 / (.8 + .2) = .8. Shown (bad, good): the judge still leans to the first position,
        // P(A) = .3 / (.3 + .45) = .4, so P(good better) there is .6. Averaged: (.8 + .6) / 2 = .7.
        var client = new ScriptedChatClient(user => Shown(user).First == "good"
            ? new ScriptedReply("A", [ScriptedChatClient.Token("A", 0.8, ("A", 0.8), ("B", 0.2))])
            : new ScriptedReply("B", [ScriptedChatClient.Token("B", 0.45, ("B", 0.45), ("A", 0.3), ("tie", 0.25))]));
        var judge = new PairwiseJudge(client);
        var j = await judge.JudgeAsync(Prompt(), "good", "bad");
        Assert.Equal(0.8, j.AFirst.ProbabilityA!.Value, 12);
        Assert.Equal(0.4, j.BFirst.ProbabilityA!.Value, 12);
        Assert.Equal(0.7, j.Verdict.ProbabilityA!.Value, 12);
        Assert.Equal(PairwisePreference.A, j.Verdict.Preferred);
        Assert.False(j.Flipped);
        Assert.Equal(0.4, j.ToPreferencePair()!.Margin, 12);

        // Within the tie margin of 0.5: a tie. (.55 + (1 − .45)) / 2 = .55.
        var close = new ScriptedChatClient(user => Shown(user).First == "x"
            ? new ScriptedReply("A", [ScriptedChatClient.Token("A", 0.55, ("A", 0.55), ("B", 0.45))])
            : new ScriptedReply("B", [ScriptedChatClient.Token("B", 0.55, ("B", 0.55), ("A", 0.45))]));
        Assert.Equal(PairwisePreference.Tie, (await new PairwiseJudge(close).JudgeAsync(Prompt(), "x", "y")).Verdict.Preferred);
        Assert.Equal(PairwisePreference.A, (await new PairwiseJudge(close, options: new JudgeOptions { TieMargin = 0.01 }).JudgeAsync(Prompt(), "x", "y")).Verdict.Preferred);
    }

    [Fact]
    public async Task A_judge_that_says_tie_gives_a_tie_and_an_unreadable_order_is_left_out()
    {
        Assert.Equal(PairwisePreference.Tie, (await new PairwiseJudge(new ScriptedChatClient(_ => "[[C]]")).JudgeAsync(Prompt(), "x", "y")).Verdict.Preferred);

        var halfReadable = new PairwiseJudge(new ScriptedChatClient(user => Shown(user).First == "x" ? "I cannot decide between them." : "B"));
        var j = await halfReadable.JudgeAsync(Prompt(), "x", "y");
        Assert.Equal(PairwisePreference.Unparsable, j.AFirst.Preferred);
        Assert.Null(j.AFirst.ProbabilityA);
        Assert.Equal(PairwisePreference.A, j.Verdict.Preferred);  // B first said B (= x): P(x better) = 1 from the one readable order
        Assert.Contains("averaged over 1 order", j.Verdict.Rationale);
        Assert.False(j.Flipped);
        Assert.Equal(0, halfReadable.Bias.Pairs);
        Assert.Equal(1, halfReadable.UnparsableAnswers);

        var neither = await new PairwiseJudge(new ScriptedChatClient(_ => "hmm")).JudgeAsync(Prompt(), "x", "y");
        Assert.Equal(PairwisePreference.Unparsable, neither.Verdict.Preferred);
        Assert.Null(neither.ToPreferencePair());
    }

    [Fact]
    public async Task Both_orders_are_asked_with_the_responses_swapped_and_a_reference_when_the_prompt_has_one()
    {
        var client = Fair();
        var prompt = Prompt("What is 6 * 7?", "arithmetic", (JudgeTemplate.ReferenceKey, "42"));
        await new PairwiseJudge(client, "Answer correctly.", "correct").JudgeAsync(prompt, "42", "It is 41");
        Assert.Equal([("42", "It is 41"), ("It is 41", "42")], client.Requests.Select(r => Shown(r.Messages.Single().Text)));
        string user = client.Requests[0].Messages.Single().Text;
        Assert.Contains("Reference answer (known to be correct): 42\n", user);
        Assert.Contains("Principle: Answer correctly.\n", user);
        Assert.Contains("User: What is 6 * 7?", user);
        await new PairwiseJudge(client).JudgeAsync(Prompt(), "a", "b");
        Assert.DoesNotContain("Reference", client.Requests[^1].Messages.Single().Text);
        Assert.Contains(PairwiseJudge.DefaultPrinciple, client.Requests[^1].Messages.Single().Text);
    }

    [Fact]
    public async Task Verdicts_go_through_the_store_so_a_re_run_asks_nothing_and_bias_is_computable_from_it()
    {
        using var folder = StoreTestKit.Folder();
        var client = BiasedToA();
        var pairs = Pairs(6);
        PairwiseJudgement[] first;
        using (var store = FeedbackStore.Open(folder.File("f.db")))
        {
            var judge = new PairwiseJudge(client, store: store, commitEvery: 5);
            first = await judge.JudgeBatchAsync(pairs, maxConcurrency: 4);
            Assert.Equal(12, client.Calls);
            Assert.Equal(12, store.VerdictCount);
            Assert.Equal(judge.Bias, store.PositionBiasOf(judge.Name));
            Assert.Equal(judge.Bias, store.PositionBiasOf(judge.Fingerprint));
        }
        using (var store = FeedbackStore.Open(folder.File("f.db")))
        {
            var judge = new PairwiseJudge(client, store: store);
            // The same pairs, and the same pairs the other way round: every question is already stored.
            var again = await judge.JudgeBatchAsync([.. pairs, .. pairs.Select(p => new PairItem(p.Prompt, p.B, p.A))], maxConcurrency: 4);
            Assert.Equal(12, client.Calls);
            Assert.Equal(24, judge.CacheHits);
            Assert.Equal(first.Select(j => j.Verdict.ProbabilityA), again.Take(6).Select(j => j.Verdict.ProbabilityA));
            Assert.Equal(new PositionBias(12, 12, 12, 0), judge.Bias);
            var stored = store.Verdicts(judge.Name);
            Assert.Equal(12, stored.Count);
            Assert.All(stored, v => Assert.Equal(PairwisePreference.A, v.Verdict.Preferred));
            Assert.Equal(("long answer 0", "short 0"), (stored[0].First, stored[0].Second));
            Assert.Equal("scripted-judge", stored[0].Verdict.Provenance.Model);
            var summary = Assert.Single(store.Statistics().PairwiseJudges!);
            Assert.Equal((12, 0, 6, 6), (summary.Verdicts, summary.Unparsable, summary.Bias.Pairs, summary.Bias.Flipped));
        }
        // Another judge model is another fingerprint: it is asked.
        using (var store = FeedbackStore.Open(folder.File("f.db")))
        {
            var other = new ScriptedChatClient(_ => "B", modelId: "other-judge");
            await new PairwiseJudge(other, store: store).JudgeBatchAsync(pairs);
            Assert.Equal(12, other.Calls);
        }
    }
}
