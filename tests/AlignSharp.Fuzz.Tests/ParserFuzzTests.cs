using AlignSharp.Fuzz;

namespace AlignSharp.Fuzz.Tests;

/// <summary>
/// The fuzz campaign's test-suite share: every parser on a few hundred generated and mutated inputs (fixed seed, so
/// the same inputs each run) must accept or reject each with its own exception type — no other exception, no crash.
/// The long campaign is <c>dotnet run --project tools/fuzz/AlignSharp.Fuzz -c Release -- --parser all --inputs 1000000</c>.
/// </summary>
public class ParserFuzzTests
{
    const int Seed = 1;
    const int InputsPerParser = 300;

    public static TheoryData<string> Parsers => new(Targets.All.Select(t => t.Name));

    [Theory]
    [MemberData(nameof(Parsers))]
    public void Parser_accepts_or_rejects_every_input_with_its_own_exception(string parser)
    {
        var target = Targets.Get(parser);
        string scratch = Path.Combine(Path.GetTempPath(), $"alignsharp-fuzz-test-{parser}-{Guid.NewGuid():N}");
        try
        {
            var result = Campaign.Run(target, Program.FindRoot(), Seed, 0, InputsPerParser, scratch);
            Assert.True(result.Crashes.Count == 0,
                $"{parser}: {result.Crashes.Count} distinct crashes:\n" + string.Join("\n\n", result.Crashes.Values.Select(c => $"input {c.Index}: {c.Description}")));
            Assert.Equal(InputsPerParser, result.Tried);
            // Both outcomes occur: the seeds parse, and the mutations reach the error paths.
            Assert.True(result.Accepted > 0, $"{parser}: no input was accepted (are the seeds valid?)");
            Assert.True(result.Rejected > InputsPerParser / 4, $"{parser}: only {result.Rejected} inputs rejected");
        }
        finally { if (Directory.Exists(scratch)) Directory.Delete(scratch, true); }
    }

    [Fact]
    public void Inputs_are_a_function_of_parser_seed_and_index()
    {
        var target = Targets.Get("jsonl");
        var seeds = target.Seeds(Program.FindRoot());
        for (long i = seeds.Count; i < seeds.Count + 50; i++)
            Assert.Equal(Campaign.Input(target, seeds, 7, i), Campaign.Input(target, seeds, 7, i));
        Assert.Contains(Enumerable.Range(seeds.Count, 50), i => !Campaign.Input(target, seeds, 7, i).AsSpan().SequenceEqual(Campaign.Input(target, seeds, 8, i)));
    }

    [Fact]
    public void Oracle_counts_a_foreign_exception_or_an_empty_message_as_a_crash()
    {
        var own = new FuzzTarget("t", "t.txt", [typeof(FormatException)], false, false, _ => [[1]], path => throw new FormatException("t.txt: bad"));
        var foreign = own with { Run = _ => throw new InvalidOperationException("boom") };
        var silent = own with { Run = _ => throw new FormatException("") };
        Assert.Equal("", Campaign.Check(own, "t.txt", 0, [])!.Key);
        Assert.StartsWith("System.InvalidOperationException at ", Campaign.Check(foreign, "t.txt", 0, [])!.Key);
        Assert.StartsWith("System.FormatException at ", Campaign.Check(silent, "t.txt", 0, [])!.Key);
    }
}
