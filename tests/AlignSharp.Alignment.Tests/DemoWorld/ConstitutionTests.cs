using AlignSharp.Feedback;
using AlignSharp.Alignment.Environments.DemoWorld;
namespace AlignSharp.Alignment.Tests;

public class ConstitutionTests
{
    const string Good = """
        name: test
        principles:
          - id: safe
            text: Decline harmful requests.
            check: refuse_harmful
            weight: 3
          - id: correct
            text: Answer correctly.
            check: correct_answer
            applies_to: [arithmetic, world]
          - id: format
            text: Follow the format.
            check: follow_format
            weight: 0.5
            applies_to: format
        """;

    static FeedbackException Error(string yaml) => Assert.Throws<FeedbackException>(() => Constitution.Parse(yaml, "c.yaml", WorldChecks.All));

    [Fact]
    public void Parses_a_good_file()
    {
        var c = Constitution.Parse(Good, "c.yaml", WorldChecks.All);
        Assert.Equal("test", c.Name);
        Assert.Equal(["safe", "correct", "format"], c.Principles.Select(p => p.Id));
        Assert.Equal([3, 1, 0.5], c.Principles.Select(p => p.Weight));
        Assert.Equal(["arithmetic", "world"], c.Principles[1].AppliesTo);
        Assert.Equal(["format"], c.Principles[2].AppliesTo);
        Assert.Empty(c.Principles[0].AppliesTo);
        Assert.Equal("Decline harmful requests.", c.Principles[0].Text);
        Assert.Equal("c.yaml:3", c.Principles[0].Origin);
    }

    [Fact]
    public void Ships_the_demo_constitution()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AlignSharp.sln"))) dir = dir.Parent;
        Assert.NotNull(dir);
        var c = Constitution.Load(Path.Combine(dir.FullName, "recipes", "constitution.yaml"), WorldChecks.All);
        Assert.Equal(["refuse_harmful", "help_benign", "correct_answer", "follow_format"], c.Principles.Select(p => p.Check));
        Assert.All(c.Principles, p => Assert.True(p.Text.Length > 20));
    }

    [Fact]
    public void Unknown_check_lists_the_known_ones()
    {
        var e = Error("principles:\n  - id: a\n    text: t\n    check: be_nice\n");
        Assert.Equal("c.yaml:4: principles[0] (a).check: unknown check 'be_nice'; known checks: refuse_harmful, help_benign, correct_answer, follow_format", e.Message);
    }

    [Fact]
    public void Missing_text_names_the_principle_and_line()
    {
        var e = Error("principles:\n  - id: a\n    check: refuse_harmful\n  - id: b\n    check: help_benign\n");
        Assert.StartsWith("c.yaml:2: principles[0] (a): missing key 'text'", e.Message);
    }

    [Fact]
    public void Weight_must_be_a_positive_number()
    {
        Assert.Equal("c.yaml:5: principles[0] (a).weight: expected a number, got 'heavy'",
            Error("principles:\n  - id: a\n    text: t\n    check: help_benign\n    weight: heavy\n").Message);
        Assert.StartsWith("c.yaml:5: principles[0] (a).weight: must be positive",
            Error("principles:\n  - id: a\n    text: t\n    check: help_benign\n    weight: -1\n").Message);
    }

    [Theory]
    [InlineData("principles:\n  - id: a\n    text: t\n    check: help_benign\n    wieght: 2\n", "c.yaml:5: principles[0] (a): unknown key 'wieght'")]
    [InlineData("principles:\n  - id: a\n    text: t\n    check: help_benign\n  - id: a\n    text: u\n    check: help_benign\n", "c.yaml:5: principles[1].id: 'a' is already defined at c.yaml:2")]
    [InlineData("principles:\n  - text: t\n    check: help_benign\n", "c.yaml:2: principles[0]: missing key 'id'")]
    [InlineData("rules: []\n", "c.yaml:1: unknown key 'rules'")]
    [InlineData("name: x\n", "c.yaml: missing key 'principles'")]
    [InlineData("principles: [\n", "c.yaml:2: not valid YAML")]
    [InlineData("principles:\n  - id: a\n    text: \"\"\n    check: help_benign\n", "c.yaml:3: principles[0] (a).text: is empty")]
    public void Other_errors_name_line_and_key(string yaml, string expected) => Assert.StartsWith(expected, Error(yaml).Message);

    [Fact]
    public void Missing_file_is_named() =>
        Assert.Contains("nope.yaml: constitution file not found", Assert.Throws<FeedbackException>(() => Constitution.Load("nope.yaml", WorldChecks.All)).Message);

    [Fact]
    public void Source_scores_the_weighted_mean_of_applicable_principles()
    {
        var source = new ConstitutionSource(Constitution.Parse(Good, "c.yaml", WorldChecks.All));
        Assert.Equal("constitution:test", source.Name);

        // arithmetic, benign: only "correct" applies (safe needs a harmful prompt, format its category).
        var label = source.Score(Prompts.Answer("42"), "42")!;
        Assert.Equal(1, label.Score);
        Assert.Equal(new Dictionary<string, double> { ["correct"] = 1 }, label.Parts);
        Assert.Equal("correct", label.Provenance.PrincipleId);
        Assert.Equal(SignalKind.Principle, label.Provenance.Kind);

        // harmful prompt in a category with a format: safe (3) refused, format (0.5) not followed.
        var harmful = Prompts.Make("format", ("harmful", "true"), ("format", "upper_case"));
        label = source.Score(harmful, "I can't help with that.")!;
        Assert.Equal(3.0 / 3.5, label.Score, 12);
        Assert.Equal(new Dictionary<string, double> { ["safe"] = 1, ["format"] = 0 }, label.Parts);
        Assert.Equal("safe,format", label.Provenance.PrincipleId);
        Assert.Equal(["safe", "format"], label.Provenance.Inputs!.Select(p => p.PrincipleId));
        Assert.Contains("safe 1:", label.Rationale);

        Assert.Null(source.Score(Prompts.Make("chat"), "hello"));
    }

    [Fact]
    public async Task Async_scoring_agrees_with_sync()
    {
        ISignalSource source = new ConstitutionSource(Constitution.Parse(Good, "c.yaml", WorldChecks.All));
        var prompt = Prompts.Make("format", ("harmful", "true"), ("format", "upper_case"));
        Assert.Equal(source.Score(prompt, "I WON'T.")!.Score, (await source.ScoreAsync(prompt, "I WON'T."))!.Score);
    }
}
