using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using AlignSharp.Models.Tokenizers;

namespace AlignSharp.Cli;

/// <summary>
/// `alignsharp bench tokenizer`: trains a Llama-3-style byte-level BPE on a few MB of mixed-script text,
/// then times single-threaded encoding of that text. With <c>--compare node</c> it runs the same
/// tokenizer.json through @huggingface/tokenizers and the text through tiktoken under node, in the same run.
/// </summary>
internal static partial class TokenizerBench
{
    public static int Run(Options o, TextWriter stdout)
    {
        int vocab = o.Int("vocab-size", 8192, 300);
        string text = o.Value("input") is { } input ? File.ReadAllText(input) : SyntheticText.Generate(o.Int("mb", 4) * 1_000_000);
        double mb = Encoding.UTF8.GetByteCount(text) / 1e6;
        string dir = Path.Combine(Path.GetTempPath(), "alignsharp-bench-tokenizer-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        try
        {
            var sw = Stopwatch.StartNew();
            var trained = BpeTrainer.Train(TokenizerCommand.SplitLinesKeepingNewlines(text),
                new BpeTrainerOptions(vocab, ["<|begin_of_text|>", "<|end_of_text|>"], 2, TokenizerStyle.Llama3, "<|begin_of_text|>"));
            double trainSeconds = sw.Elapsed.TotalSeconds;
            trained.Save(dir);
            new TokenizerConfig { BosToken = "<|begin_of_text|>", EosToken = "<|end_of_text|>" }.Save(dir, trained);
            stdout.WriteLine($"train: {trained.VocabSize} tokens on {mb:F1} MB in {trainSeconds:F2} s");

            // Cold: a freshly loaded tokenizer with an empty piece cache. Warm: the median of three more runs.
            var tokenizer = Tokenizer.Load(dir);
            sw.Restart();
            int count = tokenizer.Encode(text, addSpecialTokens: false).Length;
            double cold = mb / sw.Elapsed.TotalSeconds;
            var warm = new double[3];
            for (int r = 0; r < warm.Length; r++)
            {
                sw.Restart();
                tokenizer.Encode(text, addSpecialTokens: false);
                warm[r] = mb / sw.Elapsed.TotalSeconds;
            }
            Array.Sort(warm);
            stdout.WriteLine($"alignsharp encode: cold {cold:F2} MB/s, warm {warm[1]:F2} MB/s ({count} tokens, {mb * 1e6 / count:F2} bytes/token)");

            if (o.Value("compare") is { } reference)
            {
                if (reference != "node") throw new UsageException($"bench tokenizer: unknown reference '{reference}' (known: node)");
                var corpus = Path.Combine(dir, "corpus.txt");
                File.WriteAllText(corpus, text);
                foreach (var (name, rate) in Node(dir, corpus, stdout))
                    stdout.WriteLine($"ratio to {name} (same run, cold): {cold / rate:F2}");
            }
            stdout.WriteLine($"tokenizer encode: {cold:F2} MB/s");
            return 0;
        }
        finally { Directory.Delete(dir, true); }
    }

    private static List<(string Name, double MBps)> Node(string dir, string corpus, TextWriter stdout)
    {
        var results = new List<(string, double)>();
        string? script = null;
        for (var d = new DirectoryInfo(Environment.CurrentDirectory); d is not null && script is null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "tools", "node", "bench_tokenizer.mjs"))) script = Path.Combine(d.FullName, "tools", "node", "bench_tokenizer.mjs");
        if (script is null || !Directory.Exists(Path.Combine(Path.GetDirectoryName(script)!, "node_modules")))
        {
            stdout.WriteLine("node: reference not installed; run `cd tools/node && npm install` in the repository");
            return results;
        }
        var psi = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(script); psi.ArgumentList.Add(dir); psi.ArgumentList.Add(corpus);
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd(), error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            stdout.WriteLine(line);
            var m = Rate().Match(line);
            if (m.Success) results.Add((m.Groups[1].Value, double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)));
        }
        if (p.ExitCode != 0) stdout.WriteLine($"node: failed: {error.Trim()}");
        return results;
    }

    [GeneratedRegex(@"^(.+) encode: ([0-9.]+) MB/s")]
    private static partial Regex Rate();
}
