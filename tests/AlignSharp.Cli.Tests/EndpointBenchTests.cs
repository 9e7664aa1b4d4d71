using AlignSharp.Cli;

namespace AlignSharp.Cli.Tests;

/// <summary>`bench endpoint` runs the whole labelling path against its loopback server and prints the table.</summary>
public class EndpointBenchTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter(); var stderr = new StringWriter();
        int code = CommandLine.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void A_short_run_prints_a_row_per_level_and_the_headline_last()
    {
        var (code, output, err) = Run("bench", "endpoint", "--latency-ms", "20", "--levels", "1,4", "--waves", "2");
        Assert.True(code == 0, err);
        var lines = output.TrimEnd().Split('\n');
        Assert.Matches(@"^\s+1\s+2\s+[0-9.]+\s+[0-9.]+\s+50\s+[0-9.]+%\s+[0-9]+\s+[0-9.]+$", lines[^3].TrimEnd());
        Assert.Matches(@"^\s+4\s+8\s+[0-9.]+\s+[0-9.]+\s+200\s+[0-9.]+%\s+[0-9]+\s+[0-9.]+$", lines[^2].TrimEnd());
        Assert.Matches(@"^endpoint: 4 concurrent: [0-9.]+% of ideal$", lines[^1].TrimEnd());
    }

    [Fact]
    public void Bad_levels_are_a_usage_error()
    {
        var (code, _, err) = Run("bench", "endpoint", "--levels", "1,x");
        Assert.Equal(2, code);
        Assert.Contains("--levels must be whole numbers ≥ 1 (got 'x')", err);
    }
}
