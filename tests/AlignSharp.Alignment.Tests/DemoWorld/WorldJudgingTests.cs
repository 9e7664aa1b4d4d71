using AlignSharp.Alignment.Environments.DemoWorld;
using AlignSharp.Feedback;

namespace AlignSharp.Alignment.Tests;

public class WorldJudgingTests
{
    private static readonly Lazy<AssistantWorld> World = new(() => AssistantWorld.Generate(new WorldOptions(SftConversations: 600, TrainPrompts: 300, EvalPrompts: 400)));

    private static string Repo([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", ".."));

    internal static IReadOnlyList<Principle> Principles() => Constitution.Load(Path.Combine(Repo(), "recipes", "constitution.yaml"), WorldChecks.All).Principles;

    private static readonly Lazy<IReadOnlyList<JudgingExample>> Train = new(() => WorldJudging.Generate(World.Value, Principles(), new JudgingOptions(400)));

    [Fact]
    public void Every_principle_gets_half_no_verdicts_its_constitution_text_and_the_world_checks_truth()
    {
        var principles = Principles();
        Assert.Equal(4 * 400, Train.Value.Count);
        foreach (var principle in principles)
        {
            var mine = Train.Value.Where(e => e.Principle.Id == principle.Id).ToList();
            Assert.Equal(400, mine.Count);
            Assert.Equal(200, mine.Count(e => !e.Follows));
            Assert.All(mine, e => Assert.Equal(principle.Text, e.Principle.Text));
            // The principle judge's own prompt; a format request's expected answer (metadata "reference") is shown as the reference.
            Assert.All(mine, e => Assert.Contains($"Principle: {principle.Text}\nRequest: {e.Prompt.Text}\n" +
                (e.Prompt.Get("reference") is { } r ? $"Reference: {r}\n" : "") + $"Response: {e.Response}\n", WorldJudging.JudgeMessage(e)));
            Assert.All(mine, e =>
            {
                var label = WorldChecks.All[principle.Check!].Score(e.Prompt, e.Response);
                Assert.Equal(label is not null, e.InScope);
                Assert.Equal(label is null || label.Score >= 0.5, e.Follows);
            });
            // A fifth of each principle's examples asks about a prompt it does not apply to (verdict Yes).
            Assert.Equal(80, mine.Count(e => !e.InScope));
            Assert.All(mine.Where(e => !e.InScope), e => Assert.True(e.Follows));
        }
    }

    [Theory]
    [InlineData("refuse_harmful", "harmful/misaligned", false)]
    [InlineData("refuse_harmful", "harmful/refusal", true)]
    [InlineData("help_benign", "benign_sensitive/aligned", true)]
    [InlineData("help_benign", "benign_sensitive/refusal", false)]
    [InlineData("help_benign", "arithmetic/refusal", false)]
    [InlineData("help_benign", "arithmetic/misaligned", true)]
    [InlineData("correct_answer", "arithmetic/aligned", true)]
    [InlineData("correct_answer", "arithmetic/misaligned", false)]
    [InlineData("correct_answer", "world_fact/misaligned", false)]
    [InlineData("correct_answer", "counting/refusal", false)]
    [InlineData("follow_format", "format/aligned", true)]
    [InlineData("follow_format", "format/misaligned", false)]
    public void Each_category_is_covered_with_the_verdict_it_deserves(string principle, string @case, bool follows)
    {
        var items = Train.Value.Where(e => e.Principle.Id == principle && e.Case == @case).ToList();
        Assert.NotEmpty(items);
        Assert.All(items, e => Assert.Equal(follows, e.Follows));
    }

    [Fact]
    public void Responses_are_the_worlds_own_aligned_misaligned_and_refusing_ones()
    {
        var harmful = Train.Value.Where(e => e.Prompt.Category == AssistantWorld.HarmfulCategory && e.InScope).ToList();
        Assert.Contains(harmful, e => e.Response == AssistantWorld.Compliance(e.Prompt));
        Assert.Contains(harmful, e => e.Response == AssistantWorld.AlignedResponse(e.Prompt));
        // The aligned answer to a harmful request is its refusal.
        static bool Refuses(JudgingExample e) => e.Kind == JudgedResponse.Refusal || (e.Kind == JudgedResponse.Aligned && e.Prompt.IsHarmful);
        Assert.All(Train.Value.Where(e => e.Kind != JudgedResponse.Garbled), e => Assert.Equal(Refuses(e), WorldRefusalDetector.IsRefusal(e.Response)));
        // About a fifth are garbled, as a tiny policy samples at temperature 1, refusing or not.
        var garbled = Train.Value.Where(e => e.Kind == JudgedResponse.Garbled).ToList();
        Assert.InRange(garbled.Count, 0.1 * Train.Value.Count, 0.25 * Train.Value.Count);
        Assert.Contains(garbled, e => WorldRefusalDetector.IsRefusal(e.Response));
        Assert.Contains(garbled, e => !WorldRefusalDetector.IsRefusal(e.Response));
        Assert.Contains(garbled, e => e.Case == "harmful/garbled" && !e.Follows);
    }

    [Fact]
    public void Judging_prompts_are_held_apart_from_the_policys_prompts()
    {
        var world = World.Value;
        var test = WorldJudging.Generate(world, Principles(), new JudgingOptions(200, WorldJudging.TestStream));
        var evalTexts = world.EvalPrompts.Select(p => p.Text).ToHashSet();
        var policyIds = world.Sft.Select(s => s.Prompt.Id).Concat(world.TrainPrompts.Select(p => p.Id)).Concat(world.EvalPrompts.Select(p => p.Id)).ToHashSet();
        foreach (var e in Train.Value.Concat(test))
        {
            Assert.DoesNotContain(e.Prompt.Text, evalTexts);
            Assert.DoesNotContain(e.Prompt.Id, policyIds);
            Assert.Equal("train", e.Prompt.Get("split"));
        }
        // Train and test sets come from different streams: ids never repeat, and the drawn requests differ.
        Assert.Empty(Train.Value.Select(e => e.Id).Intersect(test.Select(e => e.Id)));
        Assert.Equal(Train.Value.Count + test.Count, Train.Value.Concat(test).Select(e => e.Id + e.Principle.Id).Distinct().Count());
        var trainRequests = Train.Value.Where(e => e.Prompt.Category == AssistantWorld.HarmfulCategory).Select(e => e.Prompt.Text).ToHashSet();
        Assert.True(test.Count(e => e.Prompt.Category == AssistantWorld.HarmfulCategory && !trainRequests.Contains(e.Prompt.Text)) > 50);
    }

    [Fact]
    public void The_same_world_and_options_give_the_same_examples_and_the_worlds_own_splits_are_unchanged()
    {
        var again = WorldJudging.Generate(AssistantWorld.Generate(new WorldOptions(SftConversations: 600, TrainPrompts: 300, EvalPrompts: 400)), Principles(), new JudgingOptions(400));
        Assert.Equal(Train.Value.Select(e => (e.Id, e.Prompt.Text, e.Response, e.Follows)), again.Select(e => (e.Id, e.Prompt.Text, e.Response, e.Follows)));
        Assert.Throws<ArgumentException>(() => World.Value.DrawPrompts("x", 3, WorldSplit.Train, 5, AssistantWorld.TrainMix));
    }

    [Fact]
    public void Eval_split_judging_asks_only_facts_the_sft_corpus_stated()
    {
        var world = World.Value;
        var stated = world.Sft.Where(s => s.Prompt.Category == AssistantWorld.WorldFactCategory).Select(s => s.Prompt.Get("subject")).ToHashSet();
        var prompts = world.DrawPrompts("x", 200, WorldSplit.Eval, 99, [(AssistantWorld.WorldFactCategory, 1)]);
        Assert.All(prompts.Where(p => p.Get("context") == "false"), p => Assert.Contains(p.Get("subject"), stated));
    }

    [Fact]
    public void A_principle_the_world_cannot_judge_is_named()
    {
        var unknown = new Principle("be_kind", "Be kind.", null, 1, [], "c.yaml:3");
        var e = Assert.Throws<ArgumentException>(() => WorldJudging.Generate(World.Value, [unknown], new JudgingOptions(10)));
        Assert.Contains("c.yaml:3", e.Message);
        Assert.Contains("be_kind", e.Message);
    }

    [Fact]
    public void Policy_samples_become_judging_items_with_the_checks_truth()
    {
        var principles = Principles().Where(p => p.Id is "refuse_harmful" or "help_benign").ToList();
        var harmful = World.Value.TrainPrompts.First(p => p.IsHarmful);
        var benign = World.Value.TrainPrompts.First(p => p.Category == AssistantWorld.BenignSensitive);
        (PromptRecord, string)[] samples = [(harmful, AssistantWorld.Compliance(harmful)), (benign, WorldTemplates.RefusalPrefix)];
        var inScope = WorldJudging.FromSamples(samples, principles);
        Assert.Equal([("refuse_harmful", false), ("help_benign", false)], inScope.Select(e => (e.Principle.Id, e.Follows)));
        var every = WorldJudging.FromSamples(samples, principles, inScopeOnly: false);
        Assert.Equal(4, every.Count);
        Assert.Equal(2, every.Count(e => !e.InScope && e.Follows));
    }
}
