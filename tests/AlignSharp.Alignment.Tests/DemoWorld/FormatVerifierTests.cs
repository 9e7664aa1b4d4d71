using AlignSharp.Feedback;
using AlignSharp.Alignment.Environments.DemoWorld;
namespace AlignSharp.Alignment.Tests;

public class FormatVerifierTests
{
    static double? Check(string format, string response) => new WorldFormatVerifier().Score(Prompts.Format(format), response)?.Score;

    [Theory]
    [InlineData("Quenport", 1)]
    [InlineData("Quenport.", 1)]
    [InlineData("  \"blue\"!  ", 1)]
    [InlineData("well-known", 1)]
    [InlineData("New York", 0)]
    [InlineData("It is blue.", 0)]
    [InlineData("", 0)]
    [InlineData("...", 0)]
    public void One_word(string response, double expected) => Assert.Equal(expected, Check("one_word", response));

    [Theory]
    [InlineData("apples, pears, plums", 1)]
    [InlineData("apples, pears and plums.", 1)]
    [InlineData("apples, pears, and plums", 1)]
    [InlineData("apples and pears", 0)]
    [InlineData("apples, pears, plums, figs", 0)]
    [InlineData("- apples\n- pears\n- plums", 1)]
    [InlineData("Here are three:\n1. apples\n2. pears\n3. plums", 1)]
    [InlineData("apples\npears\nplums", 1)]
    [InlineData("apples\npears", 0)]
    [InlineData("I like fruit.", 0)]
    public void Three_items(string response, double expected) => Assert.Equal(expected, Check("three_items", response));

    [Theory]
    [InlineData("THE ANSWER IS 42.", 1)]
    [InlineData("QUENPORT", 1)]
    [InlineData("The answer is 42.", 0)]
    [InlineData("QUENPORt", 0)]
    [InlineData("42", 0)]
    [InlineData("", 0)]
    public void Upper_case(string response, double expected) => Assert.Equal(expected, Check("upper_case", response));

    [Fact]
    public void No_format_does_not_apply_and_an_unknown_one_is_named()
    {
        Assert.Null(new WorldFormatVerifier().Score(Prompts.Make(), "x"));
        var e = Assert.Throws<FeedbackException>(() => Check("haiku", "x"));
        Assert.Contains("haiku", e.Message);
        Assert.Contains("one_word, three_items, upper_case", e.Message);
    }
}
