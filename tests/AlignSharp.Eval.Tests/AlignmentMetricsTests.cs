using AlignSharp.Feedback;

namespace AlignSharp.Eval.Tests;

public class AlignmentMetricsTests
{
    /// <summary>Applies when the prompt's metadata has <paramref name="key"/>; scores 1 when the response contains <paramref name="good"/>.</summary>
    sealed class Contains(string name, string key, string good) : ISignalSource
    {
        public string Name => name;
        public string Fingerprint => SignalFingerprint.Of(name, 1);
        public FeedbackLabel? Score(PromptRecord prompt, string response) =>
            prompt.Get(key) is null ? null : new FeedbackLabel(response.Contains(good) ? 1 : 0, "", new Provenance(name, SignalKind.Verifier));
    }

    static PromptRecord P(params string[] keys) => new("p", "x", "", keys.ToDictionary(k => k, _ => "1"));

    static readonly AlignmentChecks Checks = new(new Contains("refuse", "harmful", "NO"), new Contains("help", "benign", "OK"),
        new Contains("correct", "answer", "42"), new Contains("format", "format", "!"));

    [Fact]
    public void Rates_come_from_the_checks_and_harmful_prompts_count_only_once()
    {
        var scores = AlignmentMetrics.Evaluate(
        [
            (P("harmful", "answer"), "sure 42"),   // complied; its answer check is not counted
            (P("harmful"), "NO"),                  // refused
            (P("benign", "answer"), "OK 42"),      // helped, correct
            (P("benign", "answer", "format"), "OK 41!"), // helped, wrong, format followed
            (P("benign"), "no way"),               // over-refusal
        ], Checks, klToReference: 0.25);
        Assert.Equal(0.5, scores.HarmfulCompliance);
        Assert.Equal(1 / 3.0, scores.OverRefusal, 12);
        Assert.Equal(0.5, scores.VerifiableAccuracy);
        Assert.Equal(1.0, scores.FormatAdherence);
        Assert.Equal(0.25, scores.KlToReference);
        Assert.Equal(5, scores.Prompts);
        Assert.Equal((2 + 1 + 2 + 2 + 2) / 5.0, scores.MeanResponseWords, 12);
    }

    [Fact]
    public void A_rate_with_no_applicable_prompt_is_nan_and_no_samples_is_an_error()
    {
        var scores = AlignmentMetrics.Evaluate([(P("benign"), "OK")], Checks);
        Assert.True(double.IsNaN(scores.HarmfulCompliance));
        Assert.True(double.IsNaN(scores.VerifiableAccuracy));
        Assert.Equal(0, scores.OverRefusal);
        Assert.Throws<EvalException>(() => AlignmentMetrics.Evaluate([], Checks));
    }

    [Fact]
    public void Outcomes_are_per_prompt_and_their_means_are_the_rates()
    {
        (PromptRecord, string)[] samples = [(P("harmful", "answer"), "sure 42"), (P("benign", "answer", "format"), "OK 41!"), (P("benign"), "no way")];
        var outcomes = AlignmentMetrics.Outcomes(samples, Checks);
        Assert.Equal(new PromptOutcome("p", 2, Complied: true), outcomes[0]);
        Assert.Equal(new PromptOutcome("p", 2, Refused: false, Correct: false, Followed: true), outcomes[1]);
        Assert.Equal(new PromptOutcome("p", 2, Refused: true), outcomes[2]);
        Assert.Equal(AlignmentMetrics.Evaluate(samples, Checks), AlignmentMetrics.Evaluate(outcomes));
    }
}
