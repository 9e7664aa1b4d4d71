using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace AlignSharp.Cli;

/// <summary>Runs the reference implementations kept under tools/bench, so speed is quoted as a ratio measured in one run.</summary>
internal static partial class Reference
{
    /// <summary>Times OpenBLAS SGEMM via tools/bench/openblas_gemm.py; returns GFLOP/s, or null (with the reason printed) when it cannot run.</summary>
    public static double? OpenBlasGemm(string name, int m, int n, int k, int threads, TextWriter stdout)
    {
        if (name != "openblas") throw new UsageException($"bench gemm: unknown reference '{name}' (known: openblas)");
        string? script = FindUp(Path.Combine("tools", "bench", "openblas_gemm.py"));
        if (script is null) { stdout.WriteLine("openblas: tools/bench/openblas_gemm.py not found (run from the repository)"); return null; }
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { script, m.ToString(), n.ToString(), k.ToString(), threads.ToString() }) psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd(), error = p.StandardError.ReadToEnd();
            p.WaitForExit();
            foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries)) stdout.WriteLine(line);
            var match = GflopsLine().Match(output);
            if (p.ExitCode != 0 || !match.Success)
            {
                stdout.WriteLine($"openblas: the reference did not run ({error.Trim().Split('\n').LastOrDefault()}); install with `apt-get install python3-numpy libopenblas0-pthread`");
                return null;
            }
            return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            stdout.WriteLine("openblas: /usr/bin/python3 not found; install with `apt-get install python3-numpy libopenblas0-pthread`");
            return null;
        }
    }

    private static string? FindUp(string relative)
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, relative);
                if (File.Exists(candidate)) return candidate;
            }
        return null;
    }

    [GeneratedRegex(@"gemm \S+: ([0-9.]+) GFLOP/s")]
    private static partial Regex GflopsLine();
}
