using AlignSharp.Feedback;
using AlignSharp.Alignment.Environments.DemoWorld;
namespace AlignSharp.Alignment.Tests;

public class VerifierTests
{
    static double? Numeric(string answer, string response) => new WorldNumericAnswerVerifier().Score(Prompts.Answer(answer), response)?.Score;
    static double? Exact(string answer, string response) => new WorldExactAnswerVerifier().Score(Prompts.Answer(answer), response)?.Score;

    [Theory]
    [InlineData("42", "42", 1)]
    [InlineData("42", "The answer is 42.", 1)]
    [InlineData("42", "42 apples", 1)]
    [InlineData("42", "4 2", 0)]
    [InlineData("42", "The answer is 41.", 0)]
    [InlineData("42", "It is 43, not 42.", 0)]
    [InlineData("-7", "The result is -7.", 1)]
    [InlineData("-7", "The result is 7.", 0)]
    [InlineData("7", "x-7", 1)]
    [InlineData("2.5", "2.5 km", 1)]
    [InlineData("2.5", "2.50", 1)]
    [InlineData("2.5", "2", 0)]
    [InlineData("1234", "1,234 meters", 1)]
    [InlineData("1,234", "1234", 1)]
    [InlineData("1", "1,2345", 1)]
    [InlineData("12", "answer12", 1)]
    [InlineData("42", "forty-two", 0)]
    public void Numeric_verifier_reads_the_first_number(string answer, string response, double expected) =>
        Assert.Equal(expected, Numeric(answer, response));

    [Fact]
    public void Numeric_verifier_does_not_apply_without_a_numeric_answer()
    {
        Assert.Null(new WorldNumericAnswerVerifier().Score(Prompts.Make(), "42"));
        Assert.Null(Numeric("Quenport", "Quenport"));
    }

    [Fact]
    public void Numeric_rationale_says_what_was_found()
    {
        var label = new WorldNumericAnswerVerifier().Score(Prompts.Answer("42"), "I think 41.")!;
        Assert.Contains("41", label.Rationale);
        Assert.Contains("42", label.Rationale);
        Assert.Equal(new Provenance("numeric_answer", SignalKind.Verifier), label.Provenance);
        Assert.Contains("no number", new WorldNumericAnswerVerifier().Score(Prompts.Answer("42"), "no idea")!.Rationale);
    }

    [Theory]
    [InlineData("Quenport", "Quenport", 1)]
    [InlineData("Quenport", "It is quenport.", 1)]
    [InlineData("Quenport", "QUENPORT!", 1)]
    [InlineData("Quenport", "Quenports are nice", 0)]
    [InlineData("Quenport", "Lorvale", 0)]
    [InlineData("Old Mill", "the old mill, of course", 1)]
    public void Exact_verifier_matches_whole_words(string answer, string response, double expected) =>
        Assert.Equal(expected, Exact(answer, response));

    [Fact]
    public void Exact_verifier_leaves_numbers_to_the_numeric_one()
    {
        Assert.Null(Exact("42", "42"));
        Assert.Null(new WorldExactAnswerVerifier().Score(Prompts.Make(), "anything"));
    }

    [Fact]
    public void First_applicable_takes_the_first_label()
    {
        var check = WorldChecks.All["correct_answer"];
        Assert.Equal("numeric_answer", check.Score(Prompts.Answer("42"), "42")!.Provenance.Source);
        Assert.Equal("exact_answer", check.Score(Prompts.Answer("Quenport"), "Quenport")!.Provenance.Source);
        Assert.Null(check.Score(Prompts.Make(), "x"));
    }
}
