using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Optim;

namespace AlignSharp.Cli;

/// <summary>
/// `alignsharp bench train`: full AdamW training steps (forward, backward, update) of the "bench-small" GPT-2
/// (V 8192, context 256, 6 layers, 6 heads, width 384) on a 4×256 batch — the configuration of the PyTorch
/// reference script in the project's shared bench folder. With <c>--compare-torch SCRIPT</c> that script runs in
/// the same command and both throughput and peak memory are given as ratios.
/// </summary>
internal static partial class TrainBench
{
    public static int Run(Options o, TextWriter stdout)
    {
        int threads = o.Int("threads", WorkerPool.Default.Threads), steps = o.Int("steps", 8, 3);
        WorkerPool.SetDefaultThreads(threads);
        const int V = 8192, T = 256, B = 4;
        var config = ModelPresets.Get("bench-small", Architecture.Gpt2);
        using var model = TransformerModel.Create(config, seed: 0);
        var optimizer = new AdamW(model.Parameters.Select(p => new TrainableParameter(p.Key, p.Value, TrainableParameter.DefaultDecay(p.Key, p.Value))).ToList());
        var rng = new Rng(0);
        var tokens = Enumerable.Range(0, B * (T + 1)).Select(_ => rng.NextInt(V)).ToArray();
        var inputs = new int[B * T]; var targets = new int[B * T];
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++) { inputs[b * T + t] = tokens[b * (T + 1) + t]; targets[b * T + t] = tokens[b * (T + 1) + t + 1]; }

        var times = new List<double>();
        float loss = 0, firstLoss = 0;
        for (int step = 0; step < steps; step++)
        {
            var sw = Stopwatch.StartNew();
            using (new TensorScope())
            {
                var l = Ops.CrossEntropy(model.Forward(inputs, B, T), targets);
                optimizer.ZeroGrad();
                l.Backward();
                optimizer.Step(1e-4f);
                loss = l.Item();
                if (step == 0) firstLoss = loss;
            }
            times.Add(sw.Elapsed.TotalSeconds);
        }
        var measured = times.Skip(2).Order().ToList();
        double median = measured[measured.Count / 2];
        long peakKb = PeakRssKb();
        double tokensPerSecond = B * T / median;
        stdout.WriteLine($"model: GPT-2 bench-small, {model.ParameterCount:N0} parameters, batch {B}×{T}, {threads} threads, loss {firstLoss:F3} → {loss:F3}");
        stdout.WriteLine($"alignsharp train: step_median_ms={median * 1e3:F1} tokens_per_s={tokensPerSecond:F0} peak_rss_mb={peakKb / 1024.0:F0}");
        if (o.Value("compare-torch") is { } script)
        {
            var (torchTokens, torchPeakKb) = Torch(script, threads, stdout);
            if (torchTokens is { } tt) stdout.WriteLine($"ratio to PyTorch (same run): speed {tokensPerSecond / tt:F2}×, peak memory {(double)peakKb / torchPeakKb:F2}×");
        }
        stdout.WriteLine($"train: {tokensPerSecond:F0} tokens/s");
        return 0;
    }

    /// <summary>Peak resident set of this process (VmHWM), in KiB.</summary>
    internal static long PeakRssKb()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:")) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        return 0;
    }

    private static (double? TokensPerSecond, long PeakKb) Torch(string script, int threads, TextWriter stdout)
    {
        if (!File.Exists(script)) throw new UsageException($"bench train: --compare-torch {script}: file not found");
        // Run the reference unchanged, and report its peak RSS the same way (ru_maxrss, KiB on Linux).
        string wrapper = "import resource, runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__'); " +
                         "print('peak_rss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)";
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-c", wrapper, script, "8192", "256", "6", "6", "384", "4", "256", threads.ToString() }) psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd(), error = p.StandardError.ReadToEnd();
            p.WaitForExit();
            foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries)) stdout.WriteLine(line);
            var speed = TorchSpeed().Match(output); var peak = TorchPeak().Match(output);
            if (p.ExitCode != 0 || !speed.Success)
            {
                stdout.WriteLine($"torch: the reference did not run ({error.Trim().Split('\n').LastOrDefault()}); install with `apt-get install python3-torch libopenblas0-pthread`");
                return (null, 0);
            }
            return (double.Parse(speed.Groups[1].Value, CultureInfo.InvariantCulture), peak.Success ? long.Parse(peak.Groups[1].Value) : 0);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            stdout.WriteLine("torch: /usr/bin/python3 not found");
            return (null, 0);
        }
    }

    [GeneratedRegex(@"torch train: .*tokens_per_s=([0-9.]+)")]
    private static partial Regex TorchSpeed();

    [GeneratedRegex(@"peak_rss_kb (\d+)")]
    private static partial Regex TorchPeak();
}
