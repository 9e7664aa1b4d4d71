using AlignSharp.Feedback;
using AlignSharp.Alignment.Environments.DemoWorld;
using AlignSharp.Alignment.Pipelines;

namespace AlignSharp.Cli.Tests.Demo;

/// <summary>A shortened demo run end to end (tiny world, one epoch, one round), its outputs, resume and recipe errors.</summary>
public class DemoPipelineTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-demo-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    private static string Repo([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", ".."));

    private string[] Settings(string name) =>
    [
        "--set", $"runs_dir={_dir}", "--set", $"name={name}", "--set", $"constitution={Path.Combine(Repo(), "recipes", "constitution.yaml")}",
        "--set", "sft_conversations=240", "--set", "train_prompts=24", "--set", "eval_prompts=30", "--set", "sft_epochs=1",
        "--set", "hidden_size=32", "--set", "layers=1", "--set", "heads=2", "--set", "kv_heads=1", "--set", "intermediate_size=64",
        "--set", "tokenizer_vocab_size=400", "--set", "rounds=1", "--set", "samples_per_prompt=3", "--set", "max_new_tokens=8",
        "--set", "align_epochs=1", "--set", "report_samples=4",
    ];

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter(); var stderr = new StringWriter();
        int code = CommandLine.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Shortened_run_produces_table_report_model_and_resumes_without_redoing_work()
    {
        string recipe = Path.Combine(Repo(), "recipes", "demo.yaml");
        var (code, output, err) = Run(["run", recipe, .. Settings("short")]);
        Assert.True(code == 0, err + output);
        Assert.Contains("harmful compliance", output);
        Assert.Contains("round 1", output);
        string run = Path.Combine(_dir, "short");
        string html = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Contains("<svg", html);
        Assert.Contains("Conversations before and after", html);
        Assert.DoesNotContain("<script", html);
        Assert.True(File.Exists(Path.Combine(run, "round-1", "model", "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(run, "round-1", "model", "tokenizer.json")));
        Assert.True(File.Exists(Path.Combine(run, "sft", "metrics.jsonl")));
        Assert.True(Directory.EnumerateFiles(Path.Combine(run, "sft", "logs")).Any());
        Assert.True(File.Exists(Path.Combine(run, "round-1", "pairs.jsonl")));
        foreach (var stage in new[] { "tokenizer", "base", "sft", "round-1-pairs", "round-1-train" })
            Assert.True(File.Exists(Path.Combine(run, "stages", stage + ".done")), stage);

        // Re-run with --resume: every stage is skipped and the table is the same.
        var (code2, output2, err2) = Run(["run", recipe, "--resume", .. Settings("short")]);
        Assert.True(code2 == 0, err2 + output2);
        Assert.Contains("sft: done earlier, skipped", output2);
        Assert.Contains("round-1-train: done earlier, skipped", output2);
        string Table(string s) => string.Join("\n", s.Split('\n').Where(l => l.StartsWith('│')));
        Assert.Equal(Table(output), Table(output2));

        // Resuming with a setting that shaped a finished stage is refused, naming the key; nothing is lost.
        var (code3, output3, err3) = Run(["run", recipe, "--resume", .. Settings("short"), "--set", "seed=2", "--set", "beta=0.25"]);
        Assert.NotEqual(0, code3);
        Assert.Contains("seed: 2 (the run was started with 1)", err3);
        Assert.Contains("beta: 0.25 (the run was started with 0.5)", err3);
        Assert.DoesNotContain("sft:", output3);
        Assert.True(File.Exists(Path.Combine(run, "round-1", "model", "model.safetensors")));

        // More rounds only add stages, so they may be asked for on resume.
        var (code4, output4, err4) = Run(["run", recipe, "--resume", .. Settings("short"), "--set", "rounds=2"]);
        Assert.True(code4 == 0, err4 + output4);
        Assert.Contains("round-1-train: done earlier, skipped", output4);
        Assert.Contains("round 2", output4);
    }

    [Fact]
    public void Kto_method_trains_on_unpaired_labels()
    {
        string recipe = Path.Combine(Repo(), "recipes", "demo.yaml");
        var (code, output, err) = Run(["run", recipe, .. Settings("kto"), "--set", "method=kto"]);
        Assert.True(code == 0, err + output);
        Assert.Contains("KTO rows", output);
        string round = Path.Combine(_dir, "kto", "round-1");
        var rows = File.ReadAllLines(Path.Combine(round, "unpaired.jsonl"));
        Assert.Equal(24 * 3, rows.Length); // every sample of every prompt is labelled (all prompts have a signal)
        Assert.All(rows, r => Assert.Matches("\"label\":(true|false)", r));
        Assert.False(File.Exists(Path.Combine(round, "pairs.jsonl")));
        Assert.True(File.Exists(Path.Combine(round, "model", "model.safetensors")));
    }

    [Fact]
    public void Help_lists_the_keys_and_what_quick_changes()
    {
        var (code, output, _) = Run("demo", "--help");
        Assert.Equal(0, code);
        Assert.Contains("  eval_prompts: 960", output);
        string quick = output[output.IndexOf("--quick changes", StringComparison.Ordinal)..];
        Assert.Contains("  rounds: 2", quick);
        Assert.Contains("  hidden_size: 128", quick);
        Assert.DoesNotContain("eval_prompts", quick); // unchanged keys are not repeated
    }

    [Fact]
    public void Bad_recipe_keys_are_named()
    {
        var (code, _, err) = Run("demo", "--set", "roundz=3");
        Assert.NotEqual(0, code);
        Assert.Contains("roundz", err);
        Assert.Contains("rounds", err);
        (code, _, err) = Run("demo", "--set", "rounds=many");
        Assert.NotEqual(0, code);
        Assert.Contains("rounds", err);
        (code, _, err) = Run(["demo", .. Settings("bad-method"), "--set", "method=reinforce"]);
        Assert.NotEqual(0, code);
        Assert.Contains("method", err);
        Assert.Contains("reinforce", err);
        Assert.Contains("online_dpo", err); // the methods there are
        (code, _, err) = Run(["demo", .. Settings("bad-compare"), "--set", "compare=[dpo, ppo, reinforce]"]);
        Assert.NotEqual(0, code);
        Assert.Contains("compare: 'reinforce'", err);
        (code, _, err) = Run("run", Path.Combine(_dir, "missing.yaml"));
        Assert.NotEqual(0, code);
        Assert.Contains("missing.yaml", err);
    }
}
