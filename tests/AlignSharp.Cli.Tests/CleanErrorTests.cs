using AlignSharp.Models.Transformers;

namespace AlignSharp.Cli.Tests;

/// <summary>
/// Folders shared by <see cref="CleanErrorTests"/>: a tokenizer (ChatML specials and template), one without a chat
/// template, a tiny Llama for each, and a reward model (LlamaForSequenceClassification) made from the first.
/// </summary>
public sealed class CleanErrorFolders : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "alignsharp-cli-errors-" + Guid.NewGuid().ToString("N"));
    public string Tokenizer => Path.Combine(Root, "tok");
    public string Model => Path.Combine(Root, "model");
    public string ModelWithoutTemplate => Path.Combine(Root, "model-no-template");
    public string RewardModel => Path.Combine(Root, "rm");

    public CleanErrorFolders()
    {
        Directory.CreateDirectory(Root);
        string corpus = Path.Combine(Root, "corpus.txt"), plainTok = Path.Combine(Root, "tok-plain");
        Check(CleanErrorTests.Run("tokenizer", "corpus", "--out", corpus, "--mb", "1"));
        Check(CleanErrorTests.Run("tokenizer", "train", "--input", corpus, "--vocab-size", "300", "--out", Tokenizer,
            "--special", "<|im_start|>", "--special", "<|im_end|>", "--eos", "<|im_end|>", "--chat-template", "chatml"));
        Check(CleanErrorTests.Run("tokenizer", "train", "--input", corpus, "--vocab-size", "300", "--out", plainTok, "--eos", "<|eot_id|>"));
        Check(CleanErrorTests.Run("model", "init", "--arch", "llama", "--preset", "tiny", "--out", Model, "--tokenizer", Tokenizer));
        Check(CleanErrorTests.Run("model", "init", "--arch", "llama", "--preset", "tiny", "--out", ModelWithoutTemplate, "--tokenizer", plainTok));
        using (var body = HuggingFaceFolder.Load(Model))
        using (var rm = ValueHeadModel.Create(body, seed: 1)) rm.Save(RewardModel);
        CopyTokenizer(Model, RewardModel);
    }

    public static void CopyTokenizer(string from, string to)
    {
        foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json" }) File.Copy(Path.Combine(from, f), Path.Combine(to, f), overwrite: true);
    }

    /// <summary>A copy of <see cref="Model"/> that a test may damage.</summary>
    public string CopyOfModel()
    {
        string dir = Path.Combine(Root, "copy-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        foreach (var f in Directory.EnumerateFiles(Model)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        return dir;
    }

    private static void Check((int Code, string Out, string Err) r) { if (r.Code != 0) throw new InvalidOperationException(r.Err + r.Out); }

    public void Dispose() { if (Directory.Exists(Root)) Directory.Delete(Root, true); }
}

/// <summary>
/// A bad input gets one line on stderr that names the file, key or option (and the fix), exit code 1 (bad data) or 2
/// (bad usage), never a stack trace or a silent wrong result.
/// </summary>
public class CleanErrorTests(CleanErrorFolders folders) : IClassFixture<CleanErrorFolders>
{
    internal static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter(); var stderr = new StringWriter();
        int code = CommandLine.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static string Repo([System.Runtime.CompilerServices.CallerFilePath] string here = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", ".."));

    /// <summary>Runs the command and checks the exit code and that stderr is one line holding every expected fragment.</summary>
    private static string Fails(int expectedCode, string[] args, params string[] expected)
    {
        var (code, output, err) = Run(args);
        Assert.True(code == expectedCode, $"exit code {code}, expected {expectedCode}; stderr: {err}; stdout: {output}");
        string line = err.TrimEnd('\n');
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith("alignsharp: ", line);
        foreach (var e in expected) Assert.Contains(e, line);
        return line;
    }

    [Theory]
    [InlineData("--temperature", "-1", "--temperature must be ≥ 0")]
    [InlineData("--temperature", "nan", "--temperature must be ≥ 0")]
    [InlineData("--top-p", "2", "--top-p must be in (0, 1]")]
    [InlineData("--top-p", "0", "--top-p must be in (0, 1]")]
    [InlineData("--min-p", "5", "--min-p must be in [0, 1]")]
    [InlineData("--repetition-penalty", "0", "--repetition-penalty must be > 0")]
    [InlineData("--stop", "", "--stop must not contain an empty string")]
    public void Generate_refuses_an_out_of_range_option(string option, string value, string message)
    {
        string line = Fails(2, ["generate", "--model", folders.Model, "--prompt", "hi", option, value, "--max-new-tokens", "2"], "generate: " + message);
        if (value != "") Assert.Contains($"got {(value == "nan" ? "NaN" : value)}", line);
    }

    [Theory]
    [InlineData("[1, 2]", "message 0: expected an object with a string \"role\"")]
    [InlineData("[{\"role\": \"user\", \"content\": \"a\"}, {\"content\": \"x\"}]", "message 1: expected an object with a string \"role\"")]
    public void Chat_names_a_message_without_a_role(string json, string message)
    {
        string messages = Path.Combine(folders.Root, "bad-" + Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(messages, json);
        Fails(2, ["chat", "render", "--template", "chatml", "--messages", messages], message);
    }

    [Fact]
    public void Generate_refuses_prompt_ids_outside_the_vocabulary()
    {
        Fails(2, ["generate", "--model", folders.Model, "--prompt-ids", "1 2 300", "--max-new-tokens", "2"], "--prompt-ids", "300", "vocab_size 300");
    }

    [Fact]
    public void Generate_refuses_a_prompt_longer_than_the_context()
    {
        string prompt = string.Concat(Enumerable.Repeat("hello world ", 400));
        Fails(2, ["generate", "--model", folders.Model, "--prompt", prompt, "--max-new-tokens", "2"], "max_position_embeddings 256", "at most 256 tokens");
    }

    [Fact]
    public void Reward_model_folder_is_refused_by_generate_train_sft_train_dpo_and_demo()
    {
        string rm = folders.RewardModel, data = Path.Combine(Repo(), "examples", "data");
        string[] said = ["reward/value model", "LlamaForSequenceClassification", "train rm"];
        Fails(1, ["generate", "--model", rm, "--prompt", "hi"], said);
        string sftOut = Path.Combine(folders.Root, "rm-sft"), dpoOut = Path.Combine(folders.Root, "rm-dpo");
        Fails(1, ["train", "sft", "--set", $"model={rm}", "--set", $"dataset={Path.Combine(data, "sft.jsonl")}", "--set", $"output_dir={sftOut}"], said);
        Fails(1, ["train", "dpo", "--set", $"model={rm}", "--set", $"dataset={Path.Combine(data, "preference.jsonl")}", "--set", $"output_dir={dpoOut}"], said);
        Assert.False(Directory.Exists(sftOut));
        Assert.False(Directory.Exists(dpoOut));
        Fails(1, ["demo", "--set", $"model={rm}", "--set", $"runs_dir={Path.Combine(folders.Root, "demo")}",
            "--set", $"constitution={Path.Combine(Repo(), "recipes", "constitution.yaml")}",
            "--set", "sft_conversations=40", "--set", "train_prompts=8", "--set", "eval_prompts=8"], said);
    }

    [Fact]
    public void Reward_model_folder_still_trains_with_train_rm()
    {
        var (code, output, err) = Run("train", "rm", "--set", $"model={folders.RewardModel}", "--set", $"dataset={Path.Combine(Repo(), "examples", "data", "preference.jsonl")}",
            "--set", $"output_dir={Path.Combine(folders.Root, "rm-again")}", "--set", "max_steps=1", "--set", "max_length=128");
        Assert.True(code == 0, err + output);
    }

    [Fact]
    public void Tokenizer_decode_refuses_ids_outside_the_vocabulary()
    {
        Fails(2, ["tokenizer", "decode", "--tokenizer", folders.Tokenizer, "--ids", "0 9906 11"], "--ids", "9906", "300 tokens");
    }

    [Fact]
    public void Tokenizer_train_names_the_minimum_vocabulary_size()
    {
        Fails(2, ["tokenizer", "train", "--input", Path.Combine(folders.Root, "corpus.txt"), "--vocab-size", "10", "--out", Path.Combine(folders.Root, "tok10"),
            "--special", "<a>", "--special", "<b>"], "--vocab-size 10", "minimum is 258", "256 byte tokens + 2 special tokens");
        Assert.False(Directory.Exists(Path.Combine(folders.Root, "tok10")));
    }

    [Fact]
    public void A_tokenizer_that_does_not_fit_the_model_is_refused_when_the_folder_loads()
    {
        string dir = folders.CopyOfModel();
        string corpus = Path.Combine(folders.Root, "corpus.txt"), big = Path.Combine(dir, "big-tok");
        Assert.Equal(0, Run("tokenizer", "train", "--input", corpus, "--vocab-size", "400", "--out", big).Code);
        CleanErrorFolders.CopyTokenizer(big, dir);
        // Any prompt: the check is at load, not at the first id past the embedding.
        Fails(1, ["generate", "--model", dir, "--prompt-ids", "1", "--max-new-tokens", "1"], "tokenizer.json has token ids up to 399", "vocab_size is 300");
    }

    [Fact]
    public void Model_init_over_a_model_needs_force_and_a_fitting_tokenizer()
    {
        string dir = folders.CopyOfModel(), big = Path.Combine(folders.Root, "tok-600-" + Guid.NewGuid().ToString("N"));
        string Weights() => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(dir, "model.safetensors"))));
        string before = Weights();
        Fails(2, ["model", "init", "--arch", "llama", "--preset", "tiny", "--out", dir, "--seed", "5"], "already holds a model", "--force");
        Assert.Equal(before, Weights());

        Assert.Equal(0, Run("tokenizer", "train", "--input", Path.Combine(folders.Root, "corpus.txt"), "--vocab-size", "600", "--out", big).Code);
        var (code, _, err) = Run("model", "init", "--arch", "llama", "--preset", "tiny", "--out", dir, "--tokenizer", big, "--seed", "5", "--force");
        Assert.True(code == 0, err);
        string replaced = Weights();
        Assert.NotEqual(before, replaced);
        // The tiny preset has 512 embedding rows; --force without --tokenizer would keep a 600-token tokenizer that does not fit.
        Fails(1, ["model", "init", "--arch", "llama", "--preset", "tiny", "--out", dir, "--force"], "tokenizer.json has token ids up to 599", "vocab_size is 512");
        Assert.Equal(replaced, Weights());
        // The same for a folder that holds only a tokenizer.
        Fails(1, ["model", "init", "--arch", "llama", "--preset", "tiny", "--out", big], "tokenizer.json has token ids up to 599", "vocab_size is 512");
        Assert.False(File.Exists(Path.Combine(big, "config.json")));
    }

    [Fact]
    public void Generate_skips_sampled_ids_that_the_smaller_tokenizer_has_no_text_for()
    {
        // A padded embedding: 512 rows (tiny preset), a 300-token tokenizer; a random model samples ids 300-511 often.
        string dir = Path.Combine(folders.Root, "padded-" + Guid.NewGuid().ToString("N"));
        Assert.Equal(0, Run("model", "init", "--arch", "llama", "--preset", "tiny", "--out", dir, "--seed", "1").Code);
        CleanErrorFolders.CopyTokenizer(folders.Tokenizer, dir);
        var (code, output, err) = Run("generate", "--model", dir, "--prompt", "hello", "--max-new-tokens", "30", "--temperature", "1", "--seed", "1", "--print-ids");
        Assert.True(code == 0, err);
        Assert.Contains(output.TrimEnd().Split('\n')[^1].Split(' ').Select(int.Parse), id => id >= 300);
        (code, _, err) = Run("generate", "--model", dir, "--prompt", "hello", "--max-new-tokens", "30", "--temperature", "1", "--seed", "1");
        Assert.True(code == 0, err);
    }

    [Fact]
    public void A_template_that_refuses_the_conversation_is_named_with_the_messages_file()
    {
        string messages = Path.Combine(folders.Root, "with-system.json");
        File.WriteAllText(messages, """[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]""");
        Fails(1, ["chat", "render", "--template", "mistral", "--messages", messages],
            "with-system.json: built-in chat template 'mistral' refuses this conversation: Conversation roles must alternate");
    }

    [Theory]
    [InlineData("{\"do_sample\": true, \"temperature\": -0.5}", "generation_config.json: temperature must be ≥ 0")]
    [InlineData("{\"do_sample\": true, \"top_p\": 1.5}", "generation_config.json: top_p must be in (0, 1]")]
    [InlineData("{\"temperature\": \"hot\"}", "generation_config.json: temperature: expected a number, found \"hot\"")]
    [InlineData("{\"do_sample\": \"yes\"}", "generation_config.json: do_sample: expected true or false")]
    [InlineData("{\"top_k\": 2.5}", "generation_config.json: top_k: expected an integer")]
    [InlineData("{\"max_new_tokens\": -3}", "generation_config.json: max_new_tokens must be ≥ 0")]
    [InlineData("[1, 2]", "generation_config.json: expected a JSON object")]
    public void Bad_generation_config_values_name_the_key(string json, string message)
    {
        string dir = folders.CopyOfModel();
        File.WriteAllText(Path.Combine(dir, "generation_config.json"), json);
        Fails(1, ["generate", "--model", dir, "--prompt", "hi", "--max-new-tokens", "1"], message);
    }

    [Fact]
    public void Non_finite_weights_are_refused_naming_the_tensor_unless_no_check()
    {
        string dir = folders.CopyOfModel();
        using (var model = HuggingFaceFolder.Load(dir))
        {
            model.Parameters["model.layers.1.mlp.up_proj.weight"].Span[7] = float.NaN;
            HuggingFaceFolder.Save(model, dir);
        }
        Fails(1, ["generate", "--model", dir, "--prompt-ids", "1 2", "--max-new-tokens", "1"], "model.layers.1.mlp.up_proj.weight", "NaN", "--no-check");
        var (code, _, err) = Run("generate", "--model", dir, "--prompt-ids", "1 2", "--max-new-tokens", "1", "--print-ids", "--no-check");
        Assert.True(code == 0, err);
        Fails(1, ["model", "info", dir], "model.layers.1.mlp.up_proj.weight", "NaN");
        (code, _, err) = Run("model", "info", dir, "--no-check");
        Assert.True(code == 0, err);
    }

    [Fact]
    public void Generate_chat_and_chat_render_both_use_chatml_for_a_folder_without_a_template_and_say_so()
    {
        string messages = Path.Combine(folders.Root, "one-turn.json");
        File.WriteAllText(messages, """[{"role": "user", "content": "hi"}]""");
        var render = Run("chat", "render", "--tokenizer", folders.ModelWithoutTemplate, "--messages", messages, "--add-generation-prompt");
        Assert.True(render.Code == 0, render.Err);
        Assert.Equal("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", render.Out);
        var generate = Run("generate", "--model", folders.ModelWithoutTemplate, "--prompt", "hi", "--chat", "--max-new-tokens", "1");
        Assert.True(generate.Code == 0, generate.Err);
        foreach (var err in new[] { render.Err, generate.Err })
        {
            Assert.Contains("has no chat_template; using the built-in chatml template", err);
            Assert.Single(err.TrimEnd('\n').Split('\n'));
        }
        // A folder with its own template: no note.
        Assert.Equal("", Run("chat", "render", "--tokenizer", folders.Model, "--messages", messages).Err);
    }

    [Theory]
    [InlineData("chatml", "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n")]
    [InlineData("llama3", "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello<|eot_id|>")]
    [InlineData("mistral", "<s>[INST] Hi [/INST]Hello</s>")]
    [InlineData("zephyr", "<|user|>\nHi</s>\n<|assistant|>\nHello</s>\n")]
    public void Every_built_in_template_renders_standalone(string name, string expected)
    {
        string messages = Path.Combine(folders.Root, "two-turns.json");
        File.WriteAllText(messages, """[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]""");
        var (code, output, err) = Run("chat", "render", "--template", name, "--messages", messages);
        Assert.True(code == 0, err);
        Assert.Equal(expected, output);
    }

    [Fact]
    public void Train_names_an_unknown_chat_template()
    {
        Fails(1, ["train", "sft", "--set", $"model={folders.Model}", "--set", $"dataset={Path.Combine(Repo(), "examples", "data", "sft.jsonl")}",
            "--set", $"output_dir={Path.Combine(folders.Root, "sft-vicuna")}", "--set", "chat_template=vicuna"], "chat_template: 'vicuna'", "chatml, llama3, mistral, zephyr");
    }

    [Fact]
    public void Missing_files_are_one_line()
    {
        string empty = Path.Combine(folders.Root, "empty");
        Directory.CreateDirectory(empty);
        Fails(1, ["generate", "--model", empty, "--prompt", "hi"], "no config.json");
        Fails(1, ["tokenizer", "encode", "--tokenizer", empty, "--text", "hi"], "no tokenizer.json");
        Fails(2, ["tokenizer", "encode", "--tokenizer", folders.Tokenizer, "--input", Path.Combine(empty, "nope.txt")], "--input", "file not found");
        Fails(1, ["tokenizer", "decode", "--tokenizer", Path.Combine(empty, "nope"), "--ids", "1"], "no such file or folder");
        Fails(2, ["chat", "render", "--tokenizer", Path.Combine(empty, "nope"), "--messages", "m.json"], "--tokenizer", "no such folder or file");
        Fails(1, ["model", "init", "--arch", "llama", "--preset", "tiny", "--out", Path.Combine(empty, "m"), "--tokenizer", empty], "no tokenizer.json");
        string noConfig = folders.CopyOfModel();
        File.Delete(Path.Combine(noConfig, "config.json"));
        Fails(1, ["train", "rm", "--set", $"model={noConfig}", "--set", $"dataset={Path.Combine(Repo(), "examples", "data", "preference.jsonl")}",
            "--set", $"output_dir={Path.Combine(folders.Root, "rm-no-config")}"], "no config.json");
    }
}
