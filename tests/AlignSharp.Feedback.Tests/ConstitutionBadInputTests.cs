namespace AlignSharp.Feedback.Tests;

/// <summary>Malformed constitutions: each is a FeedbackException naming the file (crash classes found by tools/fuzz).</summary>
public class ConstitutionBadInputTests
{
    [Fact]
    public void Deep_nesting_is_an_error_not_a_stack_overflow_or_a_hang()
    {
        string yaml = "principles: " + string.Concat(Enumerable.Repeat("{\"a\":", 100_000)) + "1" + new string('}', 100_000) + "\n";
        var e = Assert.Throws<FeedbackException>(() => Constitution.Parse(yaml, "c.yaml"));
        Assert.Contains("c.yaml", e.Message);
        Assert.Contains("nested more than", e.Message);
    }
}
