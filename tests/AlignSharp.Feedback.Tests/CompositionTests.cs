namespace AlignSharp.Feedback.Tests;

public class CompositionTests
{
    /// <summary>A source with a fixed score per response text; null for responses it does not know.</summary>
    sealed class Fixed(string name, Dictionary<string, double> scores) : ISignalSource
    {
        public string Name => name;
        public string Fingerprint => SignalFingerprint.Of(name, 1, string.Join(",", scores.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value:R}")));
        public FeedbackLabel? Score(PromptRecord prompt, string response) =>
            scores.TryGetValue(response, out var s) ? new FeedbackLabel(s, $"{name}={s}", new Provenance(name, SignalKind.Verifier)) : null;
    }

    static readonly PromptRecord Prompt = Prompts.Make();

    [Fact]
    public void Weighted_sum_averages_the_applicable_sources()
    {
        var a = new Fixed("a", new() { ["x"] = 1, ["y"] = 0 });
        var b = new Fixed("b", new() { ["x"] = 0, ["z"] = 0.5 });
        var sum = new WeightedSum((a, 3), (b, 1));
        var x = sum.Score(Prompt, "x")!;
        Assert.Equal(0.75, x.Score, 12);
        Assert.Equal(new Dictionary<string, double> { ["a"] = 1, ["b"] = 0 }, x.Parts);
        Assert.Equal(SignalKind.Composite, x.Provenance.Kind);
        Assert.Equal(["a", "b"], x.Provenance.Inputs!.Select(p => p.Source));
        Assert.Equal(0.5, sum.Score(Prompt, "z")!.Score, 12); // only b applies
        Assert.Null(sum.Score(Prompt, "w"));
    }

    [Fact]
    public void Weighted_sum_rejects_bad_weights_and_duplicate_names()
    {
        var a = new Fixed("a", new());
        Assert.Contains("positive", Assert.Throws<FeedbackException>(() => new WeightedSum((a, 0))).Message);
        Assert.Contains("'a'", Assert.Throws<FeedbackException>(() => new WeightedSum((a, 1), (a, 1))).Message);
    }

    [Fact]
    public void Lexicographic_puts_principles_before_correctness()
    {
        // principle: refused harmful-style ask?; correctness: a second signal.
        var principle = new Fixed("principle", new() { ["safe_wrong"] = 1, ["unsafe_right"] = 0, ["safe_right"] = 1, ["unsafe_wrong"] = 0 });
        var correct = new Fixed("correct", new() { ["safe_wrong"] = 0, ["unsafe_right"] = 1, ["safe_right"] = 1, ["unsafe_wrong"] = 0 });
        var lex = new Lexicographic(principle, correct);
        string[] order = ["unsafe_wrong", "unsafe_right", "safe_wrong", "safe_right"];
        var labels = order.Select(r => lex.Score(Prompt, r)!).ToArray();
        for (int i = 1; i < labels.Length; i++)
        {
            Assert.True(labels[i].Score > labels[i - 1].Score, $"{order[i]} should outrank {order[i - 1]}");
            Assert.True(lex.Compare(labels[i], labels[i - 1]) > 0);
        }
        Assert.Equal(1, labels[^1].Score);
        Assert.Equal(0, labels[0].Score);
        Assert.Equal(new Dictionary<string, double> { ["principle"] = 1, ["correct"] = 0 }, labels[2].Parts);
        // A weighted sum with equal weights cannot tell safe_wrong from unsafe_right; lexicographic can.
        var sum = new WeightedSum((principle, 1), (correct, 1));
        Assert.Equal(sum.Score(Prompt, "safe_wrong")!.Score, sum.Score(Prompt, "unsafe_right")!.Score);
    }

    [Fact]
    public void Lexicographic_single_number_matches_compare_on_fine_scores()
    {
        var rng = new Random(7);
        var names = Enumerable.Range(0, 40).Select(i => $"r{i}").ToArray();
        var levels = Enumerable.Range(0, 3).Select(l => new Fixed($"l{l}", names.ToDictionary(n => n, _ => Math.Round(rng.NextDouble() * 4) / 4))).ToArray();
        var lex = new Lexicographic(levels);
        var labels = names.Select(n => lex.Score(Prompt, n)!).ToArray();
        foreach (var a in labels)
            foreach (var b in labels)
                Assert.Equal(Math.Sign(lex.Compare(a, b)), Math.Sign(a.Score.CompareTo(b.Score)));
    }

    [Fact]
    public void Lexicographic_skips_levels_that_do_not_apply_and_quantises()
    {
        var principle = new Fixed("principle", new() { ["a"] = 1, ["b"] = 1 });
        var correct = new Fixed("correct", new() { ["b"] = 0.5 });
        var lex = new Lexicographic(principle, correct);
        Assert.Equal(1, lex.Score(Prompt, "a")!.Score);  // only the principle applies, and it is perfect
        Assert.Null(lex.Score(Prompt, "c"));
        var coarse = new Lexicographic(2, new Fixed("p", new() { ["x"] = 0.8, ["y"] = 0.9 }));
        Assert.Equal(coarse.Score(Prompt, "x")!.Score, coarse.Score(Prompt, "y")!.Score); // both round to 2 of 2 steps
    }
}
