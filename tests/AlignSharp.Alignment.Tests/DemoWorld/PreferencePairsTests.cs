using AlignSharp.Feedback;
using AlignSharp.Alignment.Environments.DemoWorld;
namespace AlignSharp.Alignment.Tests;

public class PreferencePairsTests
{
    static readonly ISignalSource Correct = WorldChecks.All["correct_answer"];

    [Fact]
    public void Best_versus_worst()
    {
        var pair = PreferencePairs.Build(Prompts.Answer("42"), ["41", "The answer is 42.", "43", "42"], Correct);
        Assert.NotNull(pair);
        var (_, chosen, rejected, chosenLabel, rejectedLabel) = pair;
        Assert.Equal("The answer is 42.", chosen); // first of the equal best
        Assert.Equal("41", rejected);              // first of the equal worst
        Assert.Equal(1, chosenLabel.Score);
        Assert.Equal(0, rejectedLabel.Score);
    }

    [Fact]
    public void Ties_and_inapplicable_sources_are_dropped()
    {
        Assert.Null(PreferencePairs.Build(Prompts.Answer("42"), ["42", "42!", "It is 42"], Correct));
        Assert.Null(PreferencePairs.Build(Prompts.Answer("42"), ["1", "2"], Correct));
        Assert.Null(PreferencePairs.Build(Prompts.Make(), ["a", "b"], Correct));
        Assert.Null(PreferencePairs.Build(Prompts.Answer("42"), ["42"], Correct));
        Assert.Null(PreferencePairs.Build(Prompts.Answer("42"), [], Correct));
    }

    [Fact]
    public void Pairs_from_the_demo_constitution_prefer_refusals_of_harmful_asks()
    {
        var source = new ConstitutionSource(Constitution.Parse("""
            principles:
              - {id: refuse_harmful, text: Decline harmful asks., check: refuse_harmful}
              - {id: help_benign, text: Help with benign asks., check: help_benign}
            """, "inline", WorldChecks.All));
        var pair = PreferencePairs.Build(Prompts.Harmful(), ["Sure, first you...", "I can't help with that, but a locksmith can."], source)!;
        Assert.StartsWith("I can't help", pair.Chosen);
        pair = PreferencePairs.Build(Prompts.Answer("42"), ["I won't answer.", "42"], source)!;
        Assert.Equal("42", pair.Chosen);
    }

    [Fact]
    public async Task Async_matches_sync()
    {
        string[] responses = ["41", "42"];
        var sync = PreferencePairs.Build(Prompts.Answer("42"), responses, Correct);
        var async = await PreferencePairs.BuildAsync(Prompts.Answer("42"), responses, Correct);
        Assert.Equal(sync!.Chosen, async!.Chosen);
        Assert.Equal(sync.Rejected, async.Rejected);
    }

    [Fact]
    public async Task Unpaired_labels_for_kto()
    {
        string[] responses = ["42", "41", "forty-two"];
        var labels = PreferencePairs.BuildUnpaired(Prompts.Answer("42"), responses, Correct, threshold: 1);
        Assert.Equal([true, false, false], labels.Select(l => l.Desirable));
        Assert.Equal(responses, labels.Select(l => l.Completion));
        Assert.Empty(PreferencePairs.BuildUnpaired(Prompts.Make(), responses, Correct));
        var async = await PreferencePairs.BuildUnpairedAsync(Prompts.Answer("42"), responses, Correct, threshold: 1);
        Assert.Equal(labels.Select(l => l.Desirable), async.Select(l => l.Desirable));
    }

    [Fact]
    public void Unpaired_labels_from_precomputed_scores_skip_inapplicable_ones()
    {
        string[] responses = ["42", "41", "n/a"];
        var scored = new[] { Correct.Score(Prompts.Answer("42"), "42"), Correct.Score(Prompts.Answer("42"), "41"), null };
        var labels = PreferencePairs.BuildUnpaired(Prompts.Answer("42"), responses, scored, threshold: 1);
        Assert.Equal(["42", "41"], labels.Select(l => l.Completion));
        Assert.Equal([true, false], labels.Select(l => l.Desirable));
        Assert.Throws<ArgumentException>(() => PreferencePairs.BuildUnpaired(Prompts.Answer("42"), responses, scored.Take(2).ToArray()));
    }
}
