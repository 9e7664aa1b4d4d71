using AlignSharp.Cli;

namespace AlignSharp.Cli.Tests;

/// <summary>`export trl`: TRL-format data and a TRL config from a trainer recipe, the unmapped keys listed, the hand-off printed.</summary>
public class ExportCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-cli-export-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter(); var stderr = new StringWriter();
        int code = CommandLine.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Dpo_recipe_exports_data_config_unmapped_keys_and_the_hand_off()
    {
        string outDir = Path.Combine(_dir, "dpo");
        var (code, output, err) = Run("export", "trl", "--config", TinyModelFolder.Recipe("dpo.yaml"), "--out", outDir,
            "--set", $"dataset={TinyModelFolder.Data("preference.jsonl")}", "--set", "threads=2");
        Assert.True(code == 0, err + output);
        string config = Path.Combine(outDir, "trl_config.yaml");
        Assert.Equal(File.ReadLines(TinyModelFolder.Data("preference.jsonl")).Count(l => l.Trim().Length > 0), File.ReadLines(Path.Combine(outDir, "data", "train.jsonl")).Count());
        Assert.Contains($"wrote {Path.Combine(outDir, "data", "train.jsonl")}: 40 rows", output);
        string yaml = File.ReadAllText(config);
        Assert.Contains("model_name_or_path: \"runs/sft\"", yaml);
        Assert.Contains($"dataset_name: \"{Path.Combine(outDir, "data")}\"", yaml);
        Assert.Contains("beta: 0.1", yaml);
        Assert.Contains("learning_rate: 0.0005", yaml);
        // dpo.yaml's max_prompt_length has no field in current TRL: listed on screen and at the top of the file, not dropped.
        Assert.Contains("  max_prompt_length: 128 — current DPOConfig has no prompt limit", output);
        Assert.Contains("#   max_prompt_length: 128 — ", yaml);
        Assert.Contains("#   threads: 2 — ", yaml);
        Assert.DoesNotContain("\nmax_prompt_length:", yaml);
        var lines = output.TrimEnd().Split('\n');
        Assert.Equal("  pip install trl peft", lines[^2]);
        Assert.Equal($"  trl dpo --config {config}", lines[^1]);
    }

    [Fact]
    public void Reward_model_recipe_exports_its_eval_split_and_simpo_goes_to_cpo()
    {
        string rm = Path.Combine(_dir, "rm");
        var (code, output, err) = Run("export", "trl", "--config", TinyModelFolder.Recipe("rm.yaml"), "--out", rm,
            "--set", $"dataset={TinyModelFolder.Data("preference.jsonl")}", "--set", $"eval_dataset={TinyModelFolder.Data("preference.jsonl")}");
        Assert.True(code == 0, err + output);
        Assert.True(File.Exists(Path.Combine(rm, "data", "test.jsonl")));
        Assert.Contains("eval_strategy: \"epoch\"", File.ReadAllText(Path.Combine(rm, "trl_config.yaml")));
        Assert.Contains("trl reward --config", output);

        string simpo = Path.Combine(_dir, "simpo");
        (code, output, err) = Run("export", "trl", "--config", TinyModelFolder.Recipe("simpo.yaml"), "--out", simpo, "--set", $"dataset={TinyModelFolder.Data("preference.jsonl")}");
        Assert.True(code == 0, err + output);
        string yaml = File.ReadAllText(Path.Combine(simpo, "trl_config.yaml"));
        Assert.Contains("loss_type: \"simpo\"", yaml);
        Assert.Contains("cpo_alpha: 0.0", yaml);
        Assert.Contains("examples/scripts/cpo.py --config", output);
    }

    [Fact]
    public void Mistakes_are_one_line_with_the_right_code_and_nothing_is_written()
    {
        string recipe = Path.Combine(_dir, "r.yaml");
        Directory.CreateDirectory(_dir);
        File.WriteAllText(recipe, "model: m\ndataset: d.jsonl\n");
        var (code, _, err) = Run("export", "trl", "--config", recipe, "--out", Path.Combine(_dir, "o"));
        Assert.Equal(2, code);
        Assert.Contains("names no method", err);
        (code, _, err) = Run("export", "trl", "--config", recipe);
        Assert.Equal(2, code);
        Assert.Contains("--out is required", err);
        (code, _, err) = Run("export", "parquet");
        Assert.Equal(2, code);
        Assert.Contains("name a format (trl)", err);

        string bad = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllText(bad, "{\"prompt\": \"p\", \"chosen\": \"a\"}\n");
        string outDir = Path.Combine(_dir, "bad-out");
        (code, _, err) = Run("export", "trl", "--config", recipe, "--out", outDir, "--set", "method=dpo", "--set", $"dataset={bad}");
        Assert.Equal(1, code);
        Assert.Contains($"{bad}:1", err);
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.False(Directory.Exists(outDir));
    }
}
