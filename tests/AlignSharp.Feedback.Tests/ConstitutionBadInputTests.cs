namespace AlignSharp.Feedback.Tests;

/// <summary>Malformed constitutions: each is a FeedbackException naming the file (crash classes found by tools/fuzz).</summary>
public class ConstitutionBadInputTests
{
    [Fact]
    public void Deep_nesting_is_an_error_not_a_stack_overflow_or_a_hang()
    {
        string yaml = "principles: " + string.Concat(Enumerable.Repeat("{\"a\":", 100_000)) + "1" + new string('}', 100_000) + "\n";
        var e = Assert.Throws<FeedbackException>(() => Constitution.Parse(yaml, "c.yaml", new Dictionary<string, ISignalSource>()));
        Assert.Contains("c.yaml", e.Message);
        Assert.Contains("nested more than", e.Message);
    }

    [Theory]
    [InlineData("a: &a [x, x]\n*c: &c [*a, *a]\n")]  // the key is an alias to the value it keys (found by tools/fuzz: a stack overflow)
    [InlineData("a: &a [x, *a]\n")]                   // a list that contains itself
    [InlineData("b: *a\na: &a x\n")]                  // an alias before its anchor
    public void Cyclic_or_forward_aliases_are_an_error_not_a_stack_overflow(string yaml)
    {
        var e = Assert.Throws<FeedbackException>(() => Constitution.Parse(yaml, "c.yaml", new Dictionary<string, ISignalSource>()));
        Assert.Contains("c.yaml", e.Message);
        Assert.Contains("alias *", e.Message);
    }

    [Fact]
    public void An_alias_to_a_finished_anchor_still_loads_as_yaml()
    {
        var stream = SafeYaml.Load("a: &a [x, y]\nb: *a\n");
        Assert.Single(stream.Documents);
    }
}
