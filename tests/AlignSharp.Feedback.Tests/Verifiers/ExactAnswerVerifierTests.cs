using AlignSharp.Feedback.Verifiers;

namespace AlignSharp.Feedback.Tests.Verifiers;

/// <summary>exact_answer: the first number equals a numeric answer, the first words equal any other; null without an answer.</summary>
public class ExactAnswerVerifierTests
{
    private static readonly ExactAnswerVerifier Verifier = new();

    [Theory]
    [InlineData("42", "42", 1)]
    [InlineData("42", "42.", 1)]
    [InlineData("42", "So 42, since 6 * 7 = 42.", 1)]
    [InlineData("42", "42.0 exactly", 1)]
    [InlineData("1234", "1,234 apples", 1)]
    [InlineData("-3", "-3", 1)]
    [InlineData("-3", "x-3", 0)]      // a minus glued to a word is no sign
    [InlineData("42", "6 * 7 = 42", 0)] // only the first number counts: answer first
    [InlineData("42", "forty-two", 0)]
    [InlineData("Paris", "Paris.", 1)]
    [InlineData("Paris", "paris is the capital", 1)]
    [InlineData("Paris", "The capital is Paris", 0)]
    [InlineData("Paris", "Parisian", 0)]
    [InlineData("New York", "new york, of course", 1)]
    [InlineData("New York", "New", 0)]
    [InlineData("Paris", "", 0)]
    public void Scores_the_answer_given_first(string answer, string response, double score)
    {
        var label = Verifier.Score(Prompts.Answer(answer), response);
        Assert.NotNull(label);
        Assert.Equal(score, label.Score);
        Assert.Equal(SignalKind.Verifier, label.Provenance.Kind);
        Assert.Equal("exact_answer", label.Provenance.Source);
        Assert.False(string.IsNullOrWhiteSpace(label.Rationale));
    }

    [Fact]
    public void Does_not_apply_without_an_answer()
    {
        Assert.Null(Verifier.Score(Prompts.Make(), "42"));
        Assert.Null(Verifier.Score(Prompts.Answer("  "), "42"));
        Assert.Null(Verifier.Score(Prompts.Answer("?!"), "?!"));   // no number and no word to compare
    }

    [Theory]
    [InlineData("a 1,234.5 b", "1,234.5", 1234.5)]
    [InlineData("x-5 and 7", "5", 5)]
    [InlineData("4 2", "4", 4)]
    public void First_number_reads_signs_separators_and_decimals(string text, string written, double value)
    {
        var found = ExactAnswerVerifier.FirstNumber(text);
        Assert.Equal(written, found!.Value.Text);
        Assert.Equal((decimal)value, found.Value.Value);
        Assert.Null(ExactAnswerVerifier.FirstNumber("no digits"));
        Assert.Equal(12m, ExactAnswerVerifier.ParseNumber(" 12 "));
        Assert.Null(ExactAnswerVerifier.ParseNumber("12 apples"));
    }
}
