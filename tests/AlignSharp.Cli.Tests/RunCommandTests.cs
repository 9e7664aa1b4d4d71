using AlignSharp.Cli;

namespace AlignSharp.Cli.Tests;

/// <summary>A tiny model folder (BPE tokenizer with ChatML, qwen2 tiny preset) built once for a test class, via the CLI.</summary>
public sealed class TinyModelFolder : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "alignsharp-cli-tiny-" + Guid.NewGuid().ToString("N"));
    public string Model { get; }

    public TinyModelFolder()
    {
        string tok = Path.Combine(Root, "tok");
        Model = Path.Combine(Root, "tiny");
        Check(CommandLine.Run(["tokenizer", "corpus", "--out", Path.Combine(Root, "c.txt"), "--mb", "1"], TextWriter.Null, TextWriter.Null));
        Check(CommandLine.Run(["tokenizer", "train", "--input", Path.Combine(Root, "c.txt"), "--vocab-size", "400", "--out", tok,
            "--special", "<|im_start|>", "--special", "<|im_end|>", "--eos", "<|im_end|>", "--chat-template", "chatml"], TextWriter.Null, TextWriter.Null));
        Check(CommandLine.Run(["model", "init", "--arch", "qwen2", "--preset", "tiny", "--out", Model, "--tokenizer", tok], TextWriter.Null, TextWriter.Null));
    }

    private static void Check(int code) { if (code != 0) throw new InvalidOperationException($"building the tiny model failed (rc {code})"); }

    public static string Repo([System.Runtime.CompilerServices.CallerFilePath] string here = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", ".."));
    public static string Recipe(string name) => Path.Combine(Repo(), "recipes", name);
    public static string Data(string name) => Path.Combine(Repo(), "examples", "data", name);

    public void Dispose() { if (Directory.Exists(Root)) Directory.Delete(Root, true); }
}

/// <summary>`run RECIPE`: a trainer recipe runs exactly as `train METHOD --config RECIPE`; environment recipes go to the alignment loop.</summary>
public class RunCommandTests(TinyModelFolder tiny) : IClassFixture<TinyModelFolder>
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter(); var stderr = new StringWriter();
        int code = CommandLine.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private string Out(string name) => Path.Combine(tiny.Root, name);

    private string[] Sets(string output, params string[] extra) =>
    [
        .. new[] { $"model={tiny.Model}", $"dataset={TinyModelFolder.Data("preference.jsonl")}", $"output_dir={output}", "max_steps=2",
            "save_steps=1", "logging_steps=1", "max_length=128", "per_device_train_batch_size=2" }.Concat(extra).SelectMany(s => new[] { "--set", s }),
    ];

    [Fact]
    public void A_trainer_recipe_runs_exactly_as_train_method_config()
    {
        string output = Out("dpo");
        var (code, viaRun, err) = Run(["run", TinyModelFolder.Recipe("dpo.yaml"), .. Sets(output)]);
        Assert.True(code == 0, err + viaRun);
        Assert.Contains("dpo: 40 rows from", viaRun);
        Assert.Contains("done: 2 steps", viaRun);
        var metricsViaRun = File.ReadAllText(Path.Combine(output, "metrics.jsonl"));

        (code, var viaTrain, err) = Run(["train", "dpo", "--config", TinyModelFolder.Recipe("dpo.yaml"), .. Sets(output, "overwrite_output_dir=true")]);
        Assert.True(code == 0, err + viaTrain);
        Assert.Equal(Timeless(viaRun), Timeless(viaTrain)); // same lines, same losses (training is bitwise deterministic)
        Assert.Equal(Strip(metricsViaRun), Strip(File.ReadAllText(Path.Combine(output, "metrics.jsonl"))));
    }

    /// <summary>Console output without the throughput, which differs between runs.</summary>
    private static string Timeless(string output) => System.Text.RegularExpressions.Regex.Replace(output, @", tokens_per_second [^,\n]+", "");

    /// <summary>metrics.jsonl without its timing fields, which differ between runs.</summary>
    private static string Strip(string metrics) => System.Text.RegularExpressions.Regex.Replace(metrics, "\"(tokens_per_second|elapsed_seconds|time)\":[^,}]*,?", "");

    [Fact]
    public void Resume_continues_a_trainer_recipe_from_its_last_checkpoint()
    {
        string output = Out("resume");
        var (code, text, err) = Run(["run", TinyModelFolder.Recipe("dpo.yaml"), .. Sets(output)]);
        Assert.True(code == 0, err + text);
        (code, text, err) = Run(["run", TinyModelFolder.Recipe("dpo.yaml"), "--resume", .. Sets(output, "max_steps=3")]);
        Assert.True(code == 0, err + text);
        Assert.Contains("resumed from checkpoint-2 (step 2)", text);
        Assert.Contains("done: 3 steps", text);
    }

    [Fact]
    public void A_recipe_without_method_or_environment_names_the_file_and_the_methods()
    {
        string recipe = Out("no-method.yaml");
        File.WriteAllText(recipe, "model: m\ndataset: d.jsonl\n");
        var (code, _, err) = Run("run", recipe);
        Assert.Equal(2, code);
        Assert.Contains(recipe, err);
        Assert.Contains("method: sft | rm | dpo | kto | orpo | simpo", err);
        Assert.Contains("environment: assistant_world", err);
        Assert.Single(err.TrimEnd().Split('\n'));

        (code, _, err) = Run(["run", TinyModelFolder.Recipe("dpo.yaml"), "--quick"]);
        Assert.Equal(2, code);
        Assert.Contains("--quick is for environment recipes", err);
        (code, _, err) = Run("run");
        Assert.Equal(2, code);
        Assert.Contains("give a recipe", err);
    }

    [Fact]
    public void Train_refuses_a_recipe_for_another_method_naming_both()
    {
        var (code, _, err) = Run("train", "kto", "--config", TinyModelFolder.Recipe("dpo.yaml"));
        Assert.Equal(2, code);
        Assert.Contains("train kto:", err);
        Assert.Contains("says method: dpo, not kto", err);
        (code, _, err) = Run(["run", TinyModelFolder.Recipe("dpo.yaml"), "--set", "method=sppo"]);
        Assert.Equal(1, code);
        Assert.Contains("--set method: 'sppo' is not a training method (sft | rm | dpo | kto | orpo | simpo | grpo | rloo | reinforce_pp | ppo | online_dpo)", err);
    }

    [Fact]
    public void Every_trainer_recipe_names_its_method()
    {
        foreach (var method in TrainCommand.Methods)
            Assert.Contains($"\nmethod: {method}\n", "\n" + File.ReadAllText(TinyModelFolder.Recipe($"{method}.yaml")));
    }

    [Fact]
    public void Environment_recipes_go_to_the_alignment_loop()
    {
        static Dictionary<string, (string, string)> Keys(params string[] keys) => keys.ToDictionary(k => k, k => ("1", "r.yaml"));
        Assert.True(RunCommand.IsEnvironmentRecipe(new Dictionary<string, (string, string)> { ["environment"] = ("assistant_world", "r.yaml:1"), ["model"] = ("m", "r.yaml:2") }));
        Assert.False(RunCommand.IsEnvironmentRecipe(new Dictionary<string, (string, string)> { ["environment"] = ("null", "r.yaml:1"), ["method"] = ("dpo", "r.yaml:2") }));
        Assert.False(RunCommand.IsEnvironmentRecipe(Keys("method", "model", "dataset", "beta")));
        // The demo recipe names its environment.
        Assert.True(RunCommand.IsEnvironmentRecipe(AlignSharp.Training.Config.RecipeFile.Read(TinyModelFolder.Recipe("demo.yaml"), [])));

        // Dispatched to the loop: its own binder reports the bad value (a trainer recipe would be refused for its keys).
        string recipe = Path.Combine(tiny.Root, "env.yaml");
        File.WriteAllText(recipe, "environment: assistant_world\nmethod: dpo\n");
        var (code, _, err) = Run("run", recipe, "--set", "rounds=many");
        Assert.NotEqual(0, code);
        Assert.Contains("--set rounds: 'many' is not a valid integer", err);
    }

    [Fact]
    public void Run_help_explains_both_kinds_of_recipe()
    {
        var (code, output, _) = Run("run", "--help");
        Assert.Equal(0, code);
        Assert.Contains("trainer recipe", output);
        Assert.Contains("environment recipe", output);
        Assert.Contains("alignsharp train METHOD --config RECIPE", output);
        Assert.Contains("recipe keys", output);
    }
}
