using AlignSharp.Cli;

namespace AlignSharp.Cli.Tests;

public class CommandLineTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter(); var stderr = new StringWriter();
        int code = CommandLine.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Bench_gemm_prints_gflops_as_last_line()
    {
        var (code, output, _) = Run("bench", "gemm", "--m", "64", "--n", "48", "--k", "32", "--threads", "1", "--repeat", "3");
        Assert.Equal(0, code);
        var last = output.TrimEnd().Split('\n')[^1];
        Assert.Matches(@"^gemm 64x48x32: [0-9]+\.[0-9] GFLOP/s$", last);
    }

    [Fact]
    public void Help_lists_commands()
    {
        var (code, output, _) = Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("bench gemm", output);
    }

    [Fact]
    public void Unknown_command_and_option_are_named()
    {
        var (code, _, err) = Run("frobnicate");
        Assert.Equal(2, code);
        Assert.Contains("'frobnicate'", err);
        (code, _, err) = Run("bench", "gemm", "--size", "3");
        Assert.Equal(2, code);
        Assert.Contains("--size", err);
        (code, _, err) = Run("bench", "gemm", "--m", "zero");
        Assert.Equal(2, code);
        Assert.Contains("--m", err);
    }
}
