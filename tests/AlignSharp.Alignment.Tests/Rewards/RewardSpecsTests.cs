using AlignSharp.Alignment.Environments.DemoWorld;
using AlignSharp.Alignment.Rewards;
using AlignSharp.Feedback;
using AlignSharp.Feedback.Providers;
using AlignSharp.Training;
using AlignSharp.Training.Online;

namespace AlignSharp.Alignment.Tests.Rewards;

/// <summary>The reward specs `alignsharp train` resolves: world checks, exact_answer, constitutions (checks, and the judge for text-only principles), judge:rubric.</summary>
public class RewardSpecsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-reward-specs-" + Guid.NewGuid().ToString("N"));
    public RewardSpecsTests() => Directory.CreateDirectory(_dir);
    public void Dispose() => Directory.Delete(_dir, true);

    private static string Repo([System.Runtime.CompilerServices.CallerFilePath] string here = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", ".."));

    private static readonly ChatProviderOptions Judge = new()
    {
        Role = ProviderRole.Judge, Kind = ProviderKind.Endpoint, Model = "judge", Endpoint = new Uri("http://127.0.0.1:9/v1"), Source = "test",
    };

    [Fact]
    public void World_checks_and_exact_answer_resolve_to_the_worlds_objects()
    {
        using var specs = new RewardSpecs();
        foreach (var (name, check) in WorldChecks.All) Assert.Same(check, specs.Resolve($"world:{name}", "w"));
        var exact = specs.Resolve("exact_answer", "w");
        Assert.Equal("exact_answer", exact.Name);
        Assert.Equal(1, exact.Score(Prompts.Answer("7"), "7 apples")!.Score);
        Assert.Null(specs.Judge);   // nothing connected a judge
        Assert.Equal(["exact_answer", "world", "constitution", "judge"], specs.Kinds.Select(k => k.Name));
    }

    [Theory]
    [InlineData("world:correct", "w: no world check 'correct'; the demo world's checks: world:refuse_harmful, world:help_benign, world:correct_answer, world:follow_format")]
    [InlineData("world", "w: name a check; the demo world's checks: world:refuse_harmful, world:help_benign, world:correct_answer, world:follow_format")]
    [InlineData("exact_answer:x", "w: exact_answer takes no argument (it reads each prompt's \"answer\" column); write exact_answer")]
    [InlineData("judge:harsh", "w: the judge kind is judge:rubric (a 5-point rubric grade from the judge: block's model)")]
    [InlineData("judge:rubric", "w: judge:rubric needs a judge, and the recipe has no judge: block; add one (judge: {endpoint: http://HOST:PORT/v1, model: NAME} or judge: {model: DIR})")]
    [InlineData("constitution:", "w: give the constitution file after constitution: (constitution:recipes/constitution.yaml)")]
    public void A_bad_spec_is_one_line_naming_it_and_the_fix(string spec, string message)
    {
        using var specs = new RewardSpecs();
        var e = Assert.Throws<TrainingException>(() => specs.Resolve(spec, "w"));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void A_constitution_of_checks_needs_no_judge_and_scores_with_them()
    {
        string file = Path.Combine(_dir, "checks.yaml");
        File.WriteAllText(file, """
            principles:
              - {id: right, text: Answer correctly., check: exact_answer, weight: 2}
              - {id: refuse, text: Refuse harmful requests., check: refuse_harmful}
            """);
        using var specs = new RewardSpecs();
        var source = Assert.IsType<ConstitutionSource>(specs.Resolve($"constitution:{file}", "w"));
        Assert.Equal("constitution:checks", source.Name);
        Assert.Empty(source.Judged);
        Assert.Equal(1, source.Score(Prompts.Answer("7"), "7")!.Score);
    }

    [Fact]
    public void Text_only_principles_need_the_judge_block_and_are_asked_of_it()
    {
        string constitution = Path.Combine(Repo(), "recipes", "constitution.yaml");
        string file = Path.Combine(_dir, "judged.yaml");
        File.WriteAllText(file, """
            principles:
              - {id: kind, text: Be kind.}
              - {id: right, text: Answer correctly., check: exact_answer}
            """);
        using (var none = new RewardSpecs())
        {
            var e = Assert.Throws<TrainingException>(() => none.Resolve($"constitution:{file}", "w"));
            Assert.Equal("w: principles kind are scored by a judge, and the recipe has no judge: block; add one (judge: {endpoint: http://HOST:PORT/v1, model: NAME} or judge: {model: DIR}), or give them a check:", e.Message);
            Assert.IsType<ConstitutionSource>(none.Resolve($"constitution:{constitution}", "w"));   // the repository's constitution: checks only
        }
        using var specs = new RewardSpecs(Judge);
        var source = Assert.IsType<ConstitutionSource>(specs.Resolve($"constitution:{file}", "w"));
        Assert.Equal(["kind"], source.Judged.Select(j => j.Principle.Id));
        Assert.Equal("judge:kind", source.Judged[0].Judge.Name);
        Assert.Contains("judge", specs.Judge);
        Assert.Equal("judge:rubric", specs.Resolve("judge:rubric", "w").Name);
    }

    [Fact]
    public void A_bad_constitution_file_is_named()
    {
        using var specs = new RewardSpecs();
        string missing = Path.Combine(_dir, "none.yaml");
        var e = Assert.Throws<TrainingException>(() => specs.Resolve($"constitution:{missing}", "reward_funcs[0] 'constitution:x'"));
        Assert.Equal($"reward_funcs[0] 'constitution:x': {missing}: constitution file not found", e.Message);
        Assert.Throws<ArgumentException>(() => specs.Resolve("rm:x", "w"));   // Training's kind, never routed here
        Assert.DoesNotContain(specs.Kinds, k => k.Name == RewardModelSpecs.Kind.Name);
    }
}
