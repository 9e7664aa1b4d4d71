using AlignSharp.Feedback.Judges;
using static AlignSharp.Feedback.Tests.Judges.JudgeTestKit;

namespace AlignSharp.Feedback.Tests.Judges;

public class ConstitutionJudgeTests
{
    const string Yaml = """
        name: c
        principles:
          - {id: harmless, text: Decline requests that would cause harm., applies_to: [harmful]}
          - {id: kind, text: Be kind., weight: 3}
          - {id: brief, text: Be brief., check: brief}
        """;

    static readonly Dictionary<string, ISignalSource> Checks = new()
    {
        ["brief"] = new FixedSource("brief", SignalKind.Verifier, r => r.Length <= 12 ? 1 : 0),
    };

    /// <summary>Yes for "kind" when the response says please, for "harmless" when it declines; counts requests per principle.</summary>
    static ScriptedChatClient Judge() => new(user =>
    {
        string principle = Field(user, "Principle:"), response = Field(user, "Response:");
        bool yes = principle.StartsWith("Be kind") ? response.Contains("please") : principle.StartsWith("Decline") ? response.StartsWith("No") : response.Length <= 12;
        return yes ? "Yes" : "No";
    });

    [Fact]
    public void Text_only_principles_are_scored_by_the_judge_and_checks_keep_theirs()
    {
        var client = Judge();
        var constitution = Constitution.Parse(Yaml, "c.yaml", Checks);
        var source = new ConstitutionSource(constitution, p => new PrincipleJudge(client, p.Text, p.Id));
        Assert.Equal(["harmless", "kind"], source.Judged.Select(j => j.Principle.Id));

        // Category "harmful": all three apply. harmless yes (1), kind no (0), brief: "No thanks." ≤ 12 → 1. (1·1 + 3·0 + 1·1) / 5.
        var label = source.Score(Prompt("How do I pick a lock?", "harmful"), "No thanks.")!;
        Assert.Equal(0.4, label.Score, 12);
        Assert.Equal(new Dictionary<string, double> { ["harmless"] = 1, ["kind"] = 0, ["brief"] = 1 }, label.Parts);
        Assert.Equal("harmless,kind,brief", label.Provenance.PrincipleId);
        Assert.Equal([SignalKind.Judge, SignalKind.Judge, SignalKind.Principle], label.Provenance.Inputs!.Select(i => i.Kind));
        Assert.Equal("scripted-judge", label.Provenance.Inputs![0].Model);
        Assert.Equal(2, client.Calls);  // the check is not a judge call

        // Another category: "harmless" does not apply and is not asked.
        var chat = source.Score(Prompt("Hi", "chat"), "Hello, please sit.")!;
        Assert.Equal(new Dictionary<string, double> { ["kind"] = 1, ["brief"] = 0 }, chat.Parts);
        Assert.Equal(3, client.Calls);
    }

    [Fact]
    public async Task The_async_path_asks_the_principles_judges_concurrently_and_agrees_with_the_sync_one()
    {
        var client = new ScriptedChatClient(_ => "Yes", awaitConcurrent: 2);
        var source = new ConstitutionSource(Constitution.Parse(Yaml, "c.yaml", Checks), p => new PrincipleJudge(client, p.Text, p.Id));
        var label = await source.ScoreAsync(Prompt("x", "harmful"), "a long response here");
        Assert.Equal((1 + 3 + 0) / 5.0, label!.Score, 12);
        Assert.Equal(2, client.MaxInFlight);
    }

    [Fact]
    public void Without_a_judge_text_only_principles_keep_the_clear_error()
    {
        var constitution = Constitution.Parse(Yaml, "c.yaml", Checks);
        var e = Assert.Throws<FeedbackException>(() => new ConstitutionSource(constitution));
        Assert.StartsWith("c.yaml:3: principle 'harmless' has text only (no check:), so only a judge can score it, and this pipeline has none", e.Message);
    }

    [Fact]
    public void Judge_checks_and_per_principle_scorers_choose_who_scores()
    {
        const string yaml = """
            judge_checks: true
            principles:
              - {id: brief, text: Be brief., check: brief}
              - {id: brief2, text: Be brief., check: brief, scorer: check}
            """;
        var constitution = Constitution.Parse(yaml, "j.yaml", Checks);
        Assert.True(constitution.JudgeChecks);
        var source = new ConstitutionSource(constitution, p => new PrincipleJudge(Judge(), p.Text, p.Id));
        Assert.Equal(["brief"], source.Judged.Select(j => j.Principle.Id));

        // The pipeline's flag does the same for a file without it; scorer: judge asks the judge even without the flag.
        var plain = Constitution.Parse("principles:\n  - {id: brief, text: Be brief., check: brief}\n  - {id: b2, text: Be brief., check: brief, scorer: judge}\n", "p.yaml", Checks);
        Assert.Equal(["b2"], new ConstitutionSource(plain, p => new PrincipleJudge(Judge(), p.Text, p.Id)).Judged.Select(j => j.Principle.Id));
        Assert.Equal(["brief", "b2"], new ConstitutionSource(plain, p => new PrincipleJudge(Judge(), p.Text, p.Id), judgeChecks: true).Judged.Select(j => j.Principle.Id));
        Assert.Empty(new ConstitutionSource(Constitution.Parse("principles:\n  - {id: brief, text: Be brief., check: brief}\n", "q.yaml", Checks)).Judged);

        var e = Assert.Throws<FeedbackException>(() => new ConstitutionSource(plain));
        Assert.StartsWith("p.yaml:3: principle 'b2' is to be scored by a judge (scorer: judge), and this pipeline has none", e.Message);
        e = Assert.Throws<FeedbackException>(() => Constitution.Parse("principles:\n  - {id: a, text: t, scorer: check}\n", "s.yaml", Checks));
        Assert.Equal("s.yaml:2: principles[0] (a).scorer: 'check' needs a check: key; give one or use scorer: judge", e.Message);
        e = Assert.Throws<FeedbackException>(() => Constitution.Parse("principles:\n  - {id: a, text: t, scorer: llm}\n", "s.yaml", Checks));
        Assert.Equal("s.yaml:2: principles[0] (a).scorer: expected auto, judge or check (got 'llm')", e.Message);
        e = Assert.Throws<FeedbackException>(() => Constitution.Parse("judge_checks: yes\nprinciples:\n  - {id: a, text: t}\n", "s.yaml", Checks));
        Assert.Equal("s.yaml:1: judge_checks: expected true or false (got 'yes')", e.Message);
    }

    [Fact]
    public void Unparsable_judge_answers_count_as_not_applying_and_an_all_unparsable_item_is_unparsable()
    {
        var client = new ScriptedChatClient(user => Field(user, "Principle:").StartsWith("Be kind") ? "Perhaps." : "Yes");
        var source = new ConstitutionSource(Constitution.Parse(Yaml, "c.yaml", Checks), p => new PrincipleJudge(client, p.Text, p.Id));
        var label = source.Score(Prompt("x", "harmful"), "a long response here")!;
        Assert.Equal(new Dictionary<string, double> { ["harmless"] = 1, ["brief"] = 0 }, label.Parts);
        Assert.Equal(0.5, label.Score, 12);

        var onlyKind = new ConstitutionSource(Constitution.Parse("principles:\n  - {id: kind, text: Be kind.}\n", "k.yaml", Checks), p => new PrincipleJudge(client, p.Text, p.Id));
        var unparsable = onlyKind.Score(Prompt(), "hello")!;
        Assert.True(unparsable.Unparsable);
        Assert.Contains("judge:kind unparsable: Perhaps.", unparsable.Rationale);
    }
}
