using System.Globalization;
using System.Text.Json;
using AlignSharp.Cli;

namespace AlignSharp.Cli.Tests;

/// <summary>`train` recovery from the command line: a used output_dir, resume checks, metrics on resume, the final loss.</summary>
public class TrainRecoveryTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-cli-recovery-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter(); var stderr = new StringWriter();
        int code = CommandLine.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static string Repo([System.Runtime.CompilerServices.CallerFilePath] string here = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", ".."));

    private string TinyModel()
    {
        string tok = Path.Combine(_dir, "tok"), model = Path.Combine(_dir, "tiny");
        Assert.Equal(0, Run("tokenizer", "corpus", "--out", Path.Combine(_dir, "c.txt"), "--mb", "1").Code);
        Assert.Equal(0, Run("tokenizer", "train", "--input", Path.Combine(_dir, "c.txt"), "--vocab-size", "400", "--out", tok,
            "--special", "<|im_start|>", "--special", "<|im_end|>", "--eos", "<|im_end|>", "--chat-template", "chatml").Code);
        Assert.Equal(0, Run("model", "init", "--arch", "qwen2", "--preset", "tiny", "--out", model, "--tokenizer", tok).Code);
        return model;
    }

    private static long[] Steps(string outputDir) =>
        File.ReadAllLines(Path.Combine(outputDir, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt64()).ToArray();

    [Fact]
    public void Used_output_dir_resume_checks_and_metrics_hold()
    {
        string model = TinyModel(), output = Path.Combine(_dir, "sft");
        string[] Train(params string[] extra) =>
        [
            "train", "sft", "--set", $"model={model}", "--set", $"dataset={Path.Combine(Repo(), "examples", "data", "sft.jsonl")}",
            "--set", $"output_dir={output}", "--set", "max_steps=4", "--set", "save_steps=2", "--set", "logging_steps=1",
            "--set", "per_device_train_batch_size=2", "--set", "gradient_accumulation_steps=2", "--set", "learning_rate=0.001", "--set", "max_length=128",
            .. extra.SelectMany(e => new[] { "--set", e }),
        ];
        var (code, output1, err) = Run(Train("logging_steps=2"));
        Assert.True(code == 0, err + output1);
        Assert.True(File.Exists(Path.Combine(output, "run_settings.json")));
        // The console's final loss is the logged loss: the last metrics line (step 4) is the mean over steps 3 and 4,
        // where the old loop printed step 4's own loss.
        var lastLine = JsonDocument.Parse(File.ReadAllLines(Path.Combine(output, "metrics.jsonl"))[^1]).RootElement;
        Assert.Contains($"final loss {lastLine.GetProperty("loss").GetDouble().ToString("G4", CultureInfo.CurrentCulture)};", output1);

        // A fresh run into the used folder is refused, naming it and the way out; with overwrite it starts clean.
        (code, _, err) = Run(Train("max_steps=2"));
        Assert.Equal(1, code);
        Assert.Contains(output, err);
        Assert.Contains("overwrite_output_dir: true", err);
        (code, var output2, err) = Run(Train("max_steps=2", "overwrite_output_dir=true"));
        Assert.True(code == 0, err + output2);
        Assert.False(Directory.Exists(Path.Combine(output, "checkpoint-4")), "the other run's checkpoint-4 was kept");
        Assert.Equal([1L, 2L], Steps(output));
        // Overwrite never deletes what the run reads.
        (code, _, err) = Run(Train("max_steps=2", "overwrite_output_dir=true", $"output_dir={Path.GetDirectoryName(model)}"));
        Assert.Equal(1, code);
        Assert.Contains("which this run reads", err);
        Assert.True(File.Exists(Path.Combine(model, "config.json")));

        // Resume with changed settings is refused with each changed key named; safe keys (max_steps up, logging) pass.
        (code, _, err) = Run(Train("max_steps=4", "resume=true", "learning_rate=0.01", "per_device_train_batch_size=4", "seed=7"));
        Assert.Equal(1, code);
        foreach (var key in new[] { "learning_rate: 0.01", "per_device_train_batch_size: 4", "seed: 7" }) Assert.Contains(key, err);
        Assert.Contains("resume_override", err);
        (code, var output3, err) = Run(Train("max_steps=4", "resume=true", "learning_rate=0.0005", "resume_override=[learning_rate]", "logging_steps=2"));
        Assert.True(code == 0, err + output3);
        Assert.Contains("resumed from checkpoint-2", output3);
        Assert.Equal([1L, 2L, 4L], Steps(output));
    }

    [Fact]
    public void Resumed_metrics_have_no_duplicate_steps()
    {
        string model = TinyModel(), output = Path.Combine(_dir, "sft");
        string[] Train(params string[] extra) =>
        [
            "train", "sft", "--set", $"model={model}", "--set", $"dataset={Path.Combine(Repo(), "examples", "data", "sft.jsonl")}",
            "--set", $"output_dir={output}", "--set", "save_steps=2", "--set", "logging_steps=1", "--set", "per_device_train_batch_size=2",
            "--set", "max_length=128", .. extra.SelectMany(e => new[] { "--set", e }),
        ];
        Assert.Equal(0, Run(Train("max_steps=3")).Code); // checkpoint-2 and checkpoint-3 (the end)
        Directory.Delete(Path.Combine(output, "checkpoint-3"), true); // as if killed after step 3 was logged
        var (code, text, err) = Run(Train("max_steps=3", "resume=true"));
        Assert.True(code == 0, err + text);
        Assert.Contains("resumed from checkpoint-2", text);
        Assert.Equal([1L, 2L, 3L], Steps(output));
        var events = Directory.EnumerateFiles(Path.Combine(output, "logs"), "events.out.tfevents.*").Order(StringComparer.Ordinal)
            .SelectMany(f => AlignSharp.Training.Metrics.TensorBoardReader.ReadScalars(f)).Where(s => s.Tag == "loss").Select(s => s.Step);
        Assert.Equal([1L, 2L, 3L], events);
    }

    [Fact]
    public void Help_names_the_keys_a_resume_may_change()
    {
        var (code, output, _) = Run("train", "dpo", "--help");
        Assert.Equal(0, code);
        Assert.Contains(AlignSharp.Training.Core.RunSettings.HelpLine, output);
        Assert.Contains("resume_override", output);
        Assert.Contains("overwrite_output_dir", output);
    }
}
