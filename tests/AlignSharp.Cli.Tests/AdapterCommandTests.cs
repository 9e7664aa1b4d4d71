using System.Text.Json.Nodes;
using AlignSharp.Cli;

namespace AlignSharp.Cli.Tests;

/// <summary>
/// PEFT adapters through the CLI: `train kto` writes one, `generate --adapter` and `model merge` use it, `model info`
/// describes it, `train ... model: ADAPTER` continues it, and each mistake is one line naming the file, key and fix.
/// </summary>
public sealed class AdapterCommandTests(AdapterCommandTests.TinyBase shared) : IDisposable, IClassFixture<AdapterCommandTests.TinyBase>
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-cli-adapter-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    /// <summary>A tokenizer with a chat template and a tiny Llama that uses it, made once for these tests (which only read it).</summary>
    public sealed class TinyBase : IDisposable
    {
        public string Dir { get; } = Path.Combine(Path.GetTempPath(), "alignsharp-cli-adapter-base-" + Guid.NewGuid().ToString("N"));
        public string Model => Path.Combine(Dir, "tiny");
        public string Tokenizer => Path.Combine(Dir, "tok");

        public TinyBase()
        {
            Assert.Equal(0, Run("tokenizer", "corpus", "--out", Path.Combine(Dir, "c.txt"), "--mb", "1").Code);
            Assert.Equal(0, Run("tokenizer", "train", "--input", Path.Combine(Dir, "c.txt"), "--vocab-size", "500", "--out", Tokenizer,
                "--special", "<|im_start|>", "--special", "<|im_end|>", "--eos", "<|im_end|>", "--chat-template", "chatml").Code);
            Assert.Equal(0, Run("model", "init", "--arch", "llama", "--preset", "tiny", "--out", Model, "--tokenizer", Tokenizer, "--seed", "2").Code);
        }

        public void Dispose() { if (Directory.Exists(Dir)) Directory.Delete(Dir, true); }
    }

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter(); var stderr = new StringWriter();
        int code = CommandLine.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static string Repo([System.Runtime.CompilerServices.CallerFilePath] string here = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", ".."));
    private static string Recipe(string name) => Path.Combine(Repo(), "recipes", name);
    private static string Data(string name) => Path.Combine(Repo(), "examples", "data", name);

    private static void AssertOneLineError(int expectedCode, (int Code, string Out, string Err) result, params string[] mentions)
    {
        Assert.True(result.Code == expectedCode, $"rc {result.Code}: {result.Err}{result.Out}");
        Assert.Single(result.Err.TrimEnd().Split('\n'));
        Assert.DoesNotContain("   at ", result.Err);
        foreach (var m in mentions) Assert.Contains(m, result.Err);
    }

    private string BaseModel() => shared.Model;

    private (int Code, string Out, string Err) TrainKto(string model, string outputDir, params string[] sets) =>
        Run(["train", "kto", "--config", Recipe("kto.yaml"), "--set", $"model={model}", "--set", $"dataset={Data("kto.jsonl")}",
            "--set", $"output_dir={outputDir}", "--set", "max_steps=3", .. sets.SelectMany(s => new[] { "--set", s })]);

    [Fact]
    public void Kto_adapter_then_generate_with_it_then_merge_then_generate_the_merged_folder()
    {
        string baseDir = BaseModel(), adapter = Path.Combine(_dir, "kto"), merged = Path.Combine(_dir, "merged");
        var (code, output, err) = TrainKto(baseDir, adapter);
        Assert.True(code == 0, err + output);
        Assert.True(File.Exists(Path.Combine(adapter, "adapter_config.json")));

        (code, output, err) = Run("model", "info", adapter);
        Assert.True(code == 0, err);
        Assert.Contains("adapter: LoRA (PEFT)", output);
        Assert.Contains($"base model: {Path.GetFullPath(baseDir)} (found)", output);
        Assert.Contains("r: 8, alpha: 16, scaling: 2 (alpha/r)", output);
        Assert.Contains("rslora: false", output);
        Assert.Contains("targets: down_proj, gate_proj, k_proj, o_proj, q_proj, up_proj, v_proj (14 modules)", output);
        // tiny Llama, 2 layers, r 8: per layer q, o (64→64), k, v (64→32), gate, up (64→160), down (160→64); r·(in + out) each.
        long perLayer = 8L * ((64 + 64) * 2 + (64 + 32) * 2 + (64 + 160) * 3);
        Assert.Contains($"trainable parameters: {2 * perLayer:N0}", output);

        string[] greedy = ["--prompt", "The cat", "--max-new-tokens", "12", "--temperature", "0", "--print-ids"];
        (code, var withAdapter, err) = Run(["generate", "--adapter", adapter, .. greedy]); // the base comes from adapter_config.json
        Assert.True(code == 0, err);
        Assert.Equal(withAdapter, Run(["generate", "--model", baseDir, "--adapter", adapter, .. greedy]).Out);

        (code, output, err) = Run("model", "merge", "--adapter", adapter, "--out", merged);
        Assert.True(code == 0, err);
        Assert.Contains("merged 14 LoRA modules", output);
        foreach (var f in new[] { "config.json", "model.safetensors", "generation_config.json", "tokenizer.json", "tokenizer_config.json" })
            Assert.True(File.Exists(Path.Combine(merged, f)), f);
        Assert.False(File.Exists(Path.Combine(merged, "adapter_config.json")));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(baseDir, "model.safetensors")), File.ReadAllBytes(Path.Combine(merged, "model.safetensors")));

        (code, var fromMerged, err) = Run(["generate", "--model", merged, .. greedy]);
        Assert.True(code == 0, err);
        Assert.Equal(withAdapter, fromMerged);
        (code, output, _) = Run("model", "info", merged);
        Assert.Equal(0, code);
        Assert.Contains("architecture: Llama", output);

        // A second merge into the same folder would overwrite it: refused, and the merged model stays.
        AssertOneLineError(2, Run("model", "merge", "--adapter", adapter, "--out", merged), "--out", "not empty");
        Assert.True(File.Exists(Path.Combine(merged, "model.safetensors")));
    }

    [Fact]
    public void Training_continues_from_an_adapter_folder_with_its_weights_and_options()
    {
        string baseDir = BaseModel(), first = Path.Combine(_dir, "first"), again = Path.Combine(_dir, "again");
        Assert.Equal(0, TrainKto(baseDir, first).Code);

        // learning_rate 1e-30 (0 is refused): Adam's steps (about lr) are far below a float's resolution at the trained
        // weights, so the saved adapter comes back bit for bit (a fresh one would have B = 0), whatever lora_r says.
        var (code, output, err) = TrainKto(first, again, "learning_rate=1e-30", "lora_r=4");
        Assert.True(code == 0, err + output);
        Assert.Contains($"model: continuing the LoRA adapter in {first} (r 8, alpha 16", output);
        Assert.Equal(File.ReadAllBytes(Path.Combine(first, "adapter_model.safetensors")), File.ReadAllBytes(Path.Combine(again, "adapter_model.safetensors")));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(again, "adapter_config.json")))!;
        Assert.Equal(Path.GetFullPath(baseDir), config["base_model_name_or_path"]!.GetValue<string>());
        Assert.Equal(8, config["r"]!.GetValue<int>());

        // With a learning rate it trains on from there.
        (code, output, err) = TrainKto(first, Path.Combine(_dir, "trained"));
        Assert.True(code == 0, err + output);
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(first, "adapter_model.safetensors")), File.ReadAllBytes(Path.Combine(_dir, "trained", "adapter_model.safetensors")));
    }

    [Fact]
    public void A_base_that_moved_is_named_with_the_fix_and_base_model_overrides_it()
    {
        string baseDir = BaseModel(), adapter = Path.Combine(_dir, "kto"), moved = Path.Combine(_dir, "moved");
        Assert.Equal(0, TrainKto(baseDir, adapter).Code);
        // The base "moves": the adapter's base_model_name_or_path names a folder that is gone.
        Directory.CreateDirectory(moved);
        foreach (var f in Directory.GetFiles(baseDir)) File.Copy(f, Path.Combine(moved, Path.GetFileName(f)));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(adapter, "adapter_config.json")))!.AsObject();
        config["base_model_name_or_path"] = Path.Combine(_dir, "gone");
        File.WriteAllText(Path.Combine(adapter, "adapter_config.json"), config.ToJsonString());

        AssertOneLineError(1, TrainKto(adapter, Path.Combine(_dir, "x")), "adapter_config.json", "base_model_name_or_path", "--set base_model=");
        AssertOneLineError(1, Run("generate", "--adapter", adapter, "--prompt-ids", "1 2"), "adapter_config.json", "base_model_name_or_path", "--model BASE");
        AssertOneLineError(1, Run("model", "merge", "--adapter", adapter, "--out", Path.Combine(_dir, "m")), "base_model_name_or_path", "--model BASE");
        Assert.False(Directory.Exists(Path.Combine(_dir, "m")));

        var (code, output, err) = TrainKto(adapter, Path.Combine(_dir, "y"), $"base_model={moved}");
        Assert.True(code == 0, err + output);
        Assert.Equal(0, Run("generate", "--model", moved, "--adapter", adapter, "--prompt-ids", "1 2", "--max-new-tokens", "2").Code);
        Assert.Equal(0, Run("model", "merge", "--model", moved, "--adapter", adapter, "--out", Path.Combine(_dir, "m")).Code);

        // base_model without an adapter is a mistake, not silently ignored.
        AssertOneLineError(1, TrainKto(moved, Path.Combine(_dir, "z"), $"base_model={moved}"), "base_model", "PEFT adapter folder");
    }

    [Fact]
    public void Bad_adapters_are_one_line_errors_naming_the_file_and_the_fix()
    {
        string baseDir = BaseModel(), adapter = Path.Combine(_dir, "kto");
        Assert.Equal(0, TrainKto(baseDir, adapter).Code);

        // An adapter trained on another base: the other base lacks the shapes.
        string gpt2 = Path.Combine(_dir, "gpt2"), llamaSmall = Path.Combine(_dir, "small");
        Assert.Equal(0, Run("model", "init", "--arch", "gpt2", "--preset", "tiny", "--out", gpt2).Code);
        Assert.Equal(0, Run("model", "init", "--arch", "llama", "--preset", "small", "--out", llamaSmall).Code);
        AssertOneLineError(1, Run("generate", "--model", gpt2, "--adapter", adapter, "--prompt-ids", "1 2"), "adapter_model.safetensors", "use the base the adapter was trained on");
        AssertOneLineError(1, Run("model", "merge", "--model", llamaSmall, "--adapter", adapter, "--out", Path.Combine(_dir, "m")),
            "adapter_model.safetensors", "base layer is", "use the base the adapter was trained on");
        Assert.False(Directory.Exists(Path.Combine(_dir, "m")));

        // No adapter_config.json, or a folder that is neither model nor adapter.
        AssertOneLineError(1, Run("generate", "--adapter", baseDir, "--prompt-ids", "1 2"), "no adapter_config.json");
        AssertOneLineError(2, Run("model", "info", shared.Tokenizer), "no config.json", "adapter_config.json");

        // Reward models train in full: an adapter is refused with the way round it.
        AssertOneLineError(1, Run("train", "rm", "--config", Recipe("rm.yaml"), "--set", $"model={Path.Combine(_dir, "kto")}",
            "--set", $"dataset={Data("preference.jsonl")}", "--set", $"output_dir={Path.Combine(_dir, "rm")}"), "LoRA adapter", "model merge");

        // An option AlignSharp cannot merge exactly.
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(adapter, "adapter_config.json")))!.AsObject();
        config["use_dora"] = true;
        File.WriteAllText(Path.Combine(adapter, "adapter_config.json"), config.ToJsonString());
        AssertOneLineError(1, Run("model", "info", adapter), "adapter_config.json", "use_dora");

        // LoRA targets that match nothing name the recipe key.
        AssertOneLineError(1, TrainKto(baseDir, Path.Combine(_dir, "t"), "lora_target_modules=[query_key_value]"), "lora_target_modules", "query_key_value");
    }

    [Fact]
    public void Readme_peft_resume_example_starts_fresh_then_resumes_and_refuses_a_full_weights_run()
    {
        string baseDir = BaseModel(), dpo = Path.Combine(_dir, "dpo"), dpoLora = Path.Combine(_dir, "dpo-lora");
        string[] Dpo(string outputDir, params string[] sets) => ["train", "dpo", "--config", Recipe("dpo.yaml"), "--set", $"model={baseDir}",
            "--set", $"dataset={Data("preference.jsonl")}", "--set", $"output_dir={outputDir}", "--set", "max_steps=4", "--set", "save_steps=2", .. sets.SelectMany(s => new[] { "--set", s })];

        // As the README writes it (beta 0.2, use_peft, resume) on a fresh output_dir: starts at step 0 with a note.
        var (code, output, err) = Run(Dpo(dpoLora, "beta=0.2", "use_peft=true", "resume=true"));
        Assert.True(code == 0, err + output);
        Assert.Contains($"resume: no checkpoint in {dpoLora} yet; starting at step 0", output);
        Assert.Contains("done: 4 steps", output);
        Assert.True(File.Exists(Path.Combine(dpoLora, "adapter_config.json")));

        // Run again with more steps: it resumes from checkpoint-4 (no note) and ends at step 6.
        (code, output, err) = Run(Dpo(dpoLora, "beta=0.2", "use_peft=true", "resume=true", "max_steps=6"));
        Assert.True(code == 0, err + output);
        Assert.DoesNotContain("no checkpoint", output);
        Assert.Contains("done: 6 steps", output);

        // Resuming a full-weights run with use_peft (the README's old order: train dpo, then this) names the fix.
        Assert.Equal(0, Run(Dpo(dpo)).Code);
        // The settings check names the changed key first; overriding it reaches the checkpoint-kind check.
        AssertOneLineError(1, Run(Dpo(dpo, "use_peft=true", "resume=true")), "use_peft");
        AssertOneLineError(1, Run(Dpo(dpo, "use_peft=true", "resume=true", "resume_override=[use_peft]")), "checkpoint-4", "full model weights", "use_peft", "new output_dir");
        // And the other way round: an adapter run resumed without use_peft.
        AssertOneLineError(1, Run(Dpo(dpoLora, "beta=0.2", "resume=true", "max_steps=8", "resume_override=[use_peft]")), "checkpoint-6", "LoRA adapter", "use_peft: true");
    }
}
