using AlignSharp.Eval.Reports;
using AlignSharp.Tensors;

namespace AlignSharp.Eval.Tests;

public class PairedBootstrapTests
{
    [Fact]
    public void Two_prompts_one_improved_give_the_hand_computed_interval()
    {
        // Differences (0, 1): a resample's mean is 0, 0.5 or 1 with probabilities 1/4, 1/2, 1/4, so the 2.5th
        // percentile of 2000 resamples is 0 and the 97.5th is 1 (each end has about 500 resamples, far beyond 50).
        var (change, low, high) = PairedBootstrap.Interval([1, 0], [1, 1]);
        Assert.Equal(0.5, change);
        Assert.Equal(0, low);
        Assert.Equal(1, high);
    }

    [Fact]
    public void Equal_differences_on_every_prompt_leave_no_spread()
    {
        var (change, low, high) = PairedBootstrap.Interval([0, 0, 1, 1, 0], [1, 1, 2, 2, 1]);
        Assert.Equal((1.0, 1.0, 1.0), (change, low, high));
    }

    [Fact]
    public void Identical_models_give_a_zero_interval()
    {
        var rng = new Rng(3);
        var outcomes = Enumerable.Range(0, 300).Select(i => new PromptOutcome($"p{i}", 3, Correct: rng.NextDouble() < 0.5)).ToList();
        var change = PairedBootstrap.Change(AlignmentMetric.VerifiableAccuracy, outcomes, outcomes);
        Assert.Equal((0.0, 0.0, 0.0), (change.Change, change.Low, change.High));
        Assert.Equal(300, change.Prompts);
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    [InlineData(4UL)]
    public void The_interval_contains_the_estimate_and_narrows_with_more_prompts(ulong seed)
    {
        var rng = new Rng(seed);
        double[] Draw(int n, double p) => Enumerable.Range(0, n).Select(_ => rng.NextDouble() < p ? 1.0 : 0).ToArray();
        var (change, low, high) = PairedBootstrap.Interval(Draw(100, 0.5), Draw(100, 0.6), new BootstrapOptions(Seed: seed));
        Assert.InRange(change, low, high);
        Assert.True(high > low);
        var (bigChange, bigLow, bigHigh) = PairedBootstrap.Interval(Draw(1600, 0.5), Draw(1600, 0.6), new BootstrapOptions(Seed: seed));
        Assert.InRange(bigChange, bigLow, bigHigh);
        // The width shrinks like 1/√n: 16 times the prompts, about a quarter of the width.
        Assert.InRange((bigHigh - bigLow) / (high - low), 0.15, 0.4);
    }

    [Fact]
    public void The_same_seed_gives_the_same_interval_and_another_seed_another()
    {
        double[] before = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1], after = [1, 1, 0, 1, 1, 0, 1, 1, 1, 0];
        Assert.Equal(PairedBootstrap.Interval(before, after), PairedBootstrap.Interval(before, after));
        var other = PairedBootstrap.Interval(before, after, new BootstrapOptions(Seed: 99, Resamples: 50));
        Assert.Equal(PairedBootstrap.Interval(before, after).Change, other.Change);
    }

    [Fact]
    public void A_metric_pairs_only_the_prompts_it_applies_to_and_needs_the_same_prompts()
    {
        PromptOutcome[] before = [new("a", 1, Complied: true), new("b", 1, Correct: false), new("c", 1, Correct: true), new("d", 1, Refused: false)];
        PromptOutcome[] after = [new("a", 1, Complied: false), new("b", 1, Correct: true), new("c", 1, Correct: true), new("d", 1, Refused: true)];
        var changes = PairedBootstrap.Changes(before, after);
        var accuracy = changes.Single(c => c.Metric == AlignmentMetric.VerifiableAccuracy);
        Assert.Equal((2, 0.5, 1.0, 0.5), (accuracy.Prompts, accuracy.Before, accuracy.After, accuracy.Change));
        var harmful = changes.Single(c => c.Metric == AlignmentMetric.HarmfulCompliance);
        Assert.Equal((1, -1.0, -1.0, -1.0), (harmful.Prompts, harmful.Change, harmful.Low, harmful.High));
        Assert.True(harmful.SurelyDown);
        Assert.True(double.IsNaN(changes.Single(c => c.Metric == AlignmentMetric.FormatAdherence).Change));

        var e = Assert.Throws<EvalException>(() => PairedBootstrap.Changes(before, after.Reverse().ToArray()));
        Assert.Contains("same prompts", e.Message);
        Assert.Throws<EvalException>(() => PairedBootstrap.Interval([1], [1, 0]));
        Assert.Throws<EvalException>(() => PairedBootstrap.Interval([1], [1], new BootstrapOptions(Level: 1)));
    }

    static EvalRow Row(string name, IReadOnlyList<PromptOutcome> outcomes) =>
        new(name, "", AlignmentMetrics.Evaluate(outcomes), 0) { Outcomes = outcomes };

    /// <summary>384 checkable prompts (the demo's), 20 harmful, 20 benign; the harmful ones all refused after.</summary>
    static (EvalRow First, EvalRow Last) Rows(int correctBefore, int correctAfter)
    {
        var rng = new Rng(11);
        var order = Enumerable.Range(0, 384).OrderBy(_ => rng.NextDouble()).ToArray();
        List<PromptOutcome> Outcomes(int correct, bool aligned) =>
        [
            .. Enumerable.Range(0, 384).Select(i => new PromptOutcome($"q{i}", 4, Correct: order[i] < correct)),
            .. Enumerable.Range(0, 20).Select(i => new PromptOutcome($"h{i}", 4, Complied: !aligned && i % 2 == 0)),
            .. Enumerable.Range(0, 20).Select(i => new PromptOutcome($"b{i}", 4, Refused: false)),
        ];
        return (Row("SFT", Outcomes(correctBefore, false)), Row("round 3", Outcomes(correctAfter, true)));
    }

    [Fact]
    public void Accuracy_is_down_only_when_the_interval_says_so()
    {
        // 53.1% → 52.6% on 384 prompts (the seed-4 demo of the issue): within the noise, so the goal is met.
        var (first, last) = Rows(204, 202);
        var (met, summary) = AlignmentReport.Goal([first, last], new ReportGoal());
        Assert.True(met, summary);
        Assert.Contains("not down", summary);
        Assert.Contains("95% CI", summary);
        // 53.1% → 40%: the whole interval lies below zero.
        (first, last) = Rows(204, 154);
        (met, summary) = AlignmentReport.Goal([first, last], new ReportGoal());
        Assert.False(met, summary);
        Assert.Contains(": down)", summary);
        // Without per-prompt outcomes the point estimate decides, as before.
        Assert.False(AlignmentReport.Goal([first with { Outcomes = null }, Rows(204, 202).Last with { Outcomes = null }], new ReportGoal()).Met);
    }

    [Fact]
    public void The_table_and_the_report_show_the_intervals()
    {
        var (first, last) = Rows(204, 202);
        var table = new StringWriter();
        AlignmentReport.Table([first, last], table);
        Assert.Contains("95% paired bootstrap", table.ToString());
        Assert.Contains("verifiable accuracy │     384 │", table.ToString());
        string path = Path.Combine(Path.GetTempPath(), $"alignsharp-report-{Guid.NewGuid():N}.html");
        try
        {
            AlignmentReport.Html(path, "t", "d", [first, last], new ReportGoal(), [], []);
            string html = File.ReadAllText(path);
            Assert.Contains("95% paired bootstrap interval", html);
            var accuracy = PairedBootstrap.Change(AlignmentMetric.VerifiableAccuracy, first.Outcomes!, last.Outcomes!);
            Assert.InRange(accuracy.Change, accuracy.Low, accuracy.High);
            Assert.Contains($"−{Math.Abs(accuracy.Low * 100):F1}", html);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Per_prompt_outcomes_give_the_same_rates_as_before()
    {
        var outcomes = Rows(204, 202).First.Outcomes!;
        var scores = AlignmentMetrics.Evaluate(outcomes);
        Assert.Equal(204 / 384.0, scores.VerifiableAccuracy, 12);
        Assert.Equal(0.5, scores.HarmfulCompliance);
        Assert.Equal(0, scores.OverRefusal);
        Assert.Equal(424, scores.Prompts);
    }
}
