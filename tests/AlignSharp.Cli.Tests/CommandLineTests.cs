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

public class TokenizerCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter(); var stderr = new StringWriter();
        int code = CommandLine.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Train_encode_decode_round_trip()
    {
        string dir = Path.Combine(Path.GetTempPath(), "alignsharp-cli-tok-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string corpus = Path.Combine(dir, "corpus.txt");
            Assert.Equal(0, Run("tokenizer", "corpus", "--out", corpus, "--mb", "1").Code);
            var (code, _, err) = Run("tokenizer", "train", "--input", corpus, "--vocab-size", "600", "--out", Path.Combine(dir, "tok"),
                "--special", "<|endoftext|>", "--bos", "<s>", "--style", "llama3");
            Assert.True(code == 0, err);
            Assert.True(File.Exists(Path.Combine(dir, "tok", "tokenizer.json")));
            Assert.Contains("\"bos_token\": \"<s>\"", File.ReadAllText(Path.Combine(dir, "tok", "tokenizer_config.json")));

            var (_, ids, _) = Run("tokenizer", "encode", "--tokenizer", Path.Combine(dir, "tok"), "--text", "Hello, wörld! 👋");
            var first = ids.Trim().Split(' ').Select(int.Parse).ToArray();
            Assert.Equal(1, first[0]); // <s> is the second special token
            var (_, text, _) = Run("tokenizer", "decode", "--tokenizer", Path.Combine(dir, "tok", "tokenizer.json"), "--ids", ids.Trim(), "--skip-special-tokens");
            Assert.Equal("Hello, wörld! 👋", text);

            File.WriteAllText(Path.Combine(dir, "lines.txt"), "one\ntwo two\n");
            var (_, lines, _) = Run("tokenizer", "encode", "--tokenizer", Path.Combine(dir, "tok"), "--input", Path.Combine(dir, "lines.txt"), "--no-special-tokens");
            Assert.Equal(2, lines.TrimEnd().Split('\n').Length);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Bad_tokenizer_path_is_a_clear_error()
    {
        var (code, _, err) = Run("tokenizer", "encode", "--tokenizer", "/nonexistent/tok", "--text", "x");
        Assert.Equal(1, code);
        Assert.Contains("/nonexistent/tok", err);
    }
}

public class ChatCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter(); var stderr = new StringWriter();
        int code = CommandLine.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Render_prints_exact_text_without_trailing_newline()
    {
        string file = Path.Combine(Path.GetTempPath(), $"alignsharp-msgs-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, """[{"role": "user", "content": "Hi ✨"}, {"role": "assistant", "content": "Hello!"}]""");
        try
        {
            var (code, output, err) = Run("chat", "render", "--template", "chatml", "--messages", file);
            Assert.True(code == 0, err);
            Assert.Equal("<|im_start|>user\nHi ✨<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n", output);
            (code, output, _) = Run("chat", "render", "--template", "chatml", "--messages", file, "--add-generation-prompt");
            Assert.EndsWith("<|im_start|>assistant\n", output);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void Template_errors_name_line_and_column()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"alignsharp-tpl-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "bad.jinja"), "{% for m in messages %}\n{{ m.content }}\n{% endif %}");
            File.WriteAllText(Path.Combine(dir, "m.json"), "[]");
            var (code, _, err) = Run("chat", "render", "--template", Path.Combine(dir, "bad.jinja"), "--messages", Path.Combine(dir, "m.json"));
            Assert.Equal(1, code);
            Assert.Contains("bad.jinja", err);
            Assert.Contains(":3:", err);
        }
        finally { Directory.Delete(dir, true); }
    }
}

public class ModelCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-cli-model-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter(); var stderr = new StringWriter();
        int code = CommandLine.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Init_info_and_generate_with_a_tokenizer()
    {
        string corpus = Path.Combine(_dir, "corpus.txt"), tok = Path.Combine(_dir, "tok"), model = Path.Combine(_dir, "model");
        Directory.CreateDirectory(_dir);
        Assert.Equal(0, Run("tokenizer", "corpus", "--out", corpus, "--mb", "1").Code);
        Assert.Equal(0, Run("tokenizer", "train", "--input", corpus, "--vocab-size", "400", "--out", tok, "--special", "<|im_start|>",
            "--eos", "<|im_end|>", "--chat-template", "chatml").Code);
        var (code, output, err) = Run("model", "init", "--arch", "qwen2", "--preset", "tiny", "--out", model, "--tokenizer", tok, "--seed", "3");
        Assert.True(code == 0, err);
        Assert.Contains("Qwen2", output);
        foreach (var f in new[] { "config.json", "model.safetensors", "generation_config.json", "tokenizer.json", "tokenizer_config.json" })
            Assert.True(File.Exists(Path.Combine(model, f)), f);

        (code, output, err) = Run("model", "info", model);
        Assert.True(code == 0, err);
        Assert.Contains("architecture: Qwen2", output);
        Assert.Contains("context length: 256", output);
        Assert.Contains("vocabulary: 400", output);

        (code, output, err) = Run("generate", "--model", model, "--prompt", "The model", "--max-new-tokens", "5", "--print-ids");
        Assert.True(code == 0, err);
        var last = output.TrimEnd().Split('\n')[^1].Split(' ');
        Assert.Equal(5, last.Length);
        Assert.All(last, id => Assert.InRange(int.Parse(id), 0, 399));

        (code, output, _) = Run("generate", "--model", model, "--prompt", "Hi", "--chat", "--max-new-tokens", "3", "--temperature", "0.8", "--top-p", "0.9", "--seed", "1", "--print-ids");
        Assert.Equal(0, code);
        var again = Run("generate", "--model", model, "--prompt", "Hi", "--chat", "--max-new-tokens", "3", "--temperature", "0.8", "--top-p", "0.9", "--seed", "1", "--print-ids").Out;
        Assert.Equal(output, again);
    }

    [Fact]
    public void Generate_from_prompt_ids_without_a_tokenizer()
    {
        Assert.Equal(0, Run("model", "init", "--arch", "gpt2", "--preset", "tiny", "--out", _dir).Code);
        var (code, output, err) = Run("generate", "--model", _dir, "--prompt-ids", "1 2 3", "--max-new-tokens", "4", "--print-ids");
        Assert.True(code == 0, err);
        Assert.Equal(4, output.TrimEnd().Split('\n')[^1].Split(' ').Length);
        (code, _, err) = Run("generate", "--model", _dir, "--prompt", "hello");
        Assert.Equal(2, code);
        Assert.Contains("no tokenizer.json", err);
    }

    [Fact]
    public void Missing_model_folder_is_a_clear_error()
    {
        var (code, _, err) = Run("generate", "--model", Path.Combine(_dir, "nope"), "--prompt-ids", "1");
        Assert.Equal(1, code);
        Assert.Contains("folder not found", err);
    }
}

public class TrainCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-cli-train-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter(); var stderr = new StringWriter();
        int code = CommandLine.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static string Repo([System.Runtime.CompilerServices.CallerFilePath] string here = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", ".."));

    [Fact]
    public void Sft_then_dpo_from_recipes_with_overrides()
    {
        string tok = Path.Combine(_dir, "tok"), model = Path.Combine(_dir, "tiny");
        Assert.Equal(0, Run("tokenizer", "corpus", "--out", Path.Combine(_dir, "c.txt"), "--mb", "1").Code);
        Assert.Equal(0, Run("tokenizer", "train", "--input", Path.Combine(_dir, "c.txt"), "--vocab-size", "600", "--out", tok,
            "--special", "<|im_start|>", "--special", "<|im_end|>", "--eos", "<|im_end|>", "--chat-template", "chatml").Code);
        Assert.Equal(0, Run("model", "init", "--arch", "qwen2", "--preset", "tiny", "--out", model, "--tokenizer", tok).Code);
        string recipes = Path.Combine(Repo(), "recipes"), data = Path.Combine(Repo(), "examples", "data");
        var (code, output, err) = Run("train", "sft", "--config", Path.Combine(recipes, "sft.yaml"), "--set", $"model={model}",
            "--set", $"dataset={Path.Combine(data, "sft.jsonl")}", "--set", $"output_dir={Path.Combine(_dir, "sft")}", "--set", "max_steps=3");
        Assert.True(code == 0, err + output);
        Assert.Contains("done: 3 steps", output);
        Assert.True(File.Exists(Path.Combine(_dir, "sft", "metrics.jsonl")));
        Assert.True(Directory.EnumerateFiles(Path.Combine(_dir, "sft", "logs"), "events.out.tfevents.*").Any());

        (code, output, err) = Run("train", "dpo", "--config", Path.Combine(recipes, "dpo.yaml"), "--set", $"model={Path.Combine(_dir, "sft")}",
            "--set", $"dataset={Path.Combine(data, "preference.jsonl")}", "--set", $"output_dir={Path.Combine(_dir, "dpo")}", "--set", "max_steps=2", "--set", "use_peft=true");
        Assert.True(code == 0, err + output);
        Assert.True(File.Exists(Path.Combine(_dir, "dpo", "adapter_config.json")));
    }

    [Fact]
    public void Unknown_keys_and_bad_values_name_the_key()
    {
        var (code, _, err) = Run("train", "dpo", "--set", "model=x", "--set", "dataset=y", "--set", "learnig_rate=0.1");
        Assert.Equal(1, code);
        Assert.Contains("learnig_rate", err);
        Assert.Contains("learning_rate", err);
        (code, _, err) = Run("train", "sft", "--set", "model=x", "--set", "dataset=y", "--set", "num_train_epochs=many");
        Assert.Equal(1, code);
        Assert.Contains("num_train_epochs", err);
        var (help, output, _) = Run("train", "kto", "--help");
        Assert.Equal(0, help);
        Assert.Contains("desirable_weight", output);
    }
}

/// <summary>Every library error is one line on stderr with rc 1 (usage mistakes rc 2), never a stack trace; recipes are checked whole before any stage.</summary>
public class ErrorReportingTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-cli-errors-" + Guid.NewGuid().ToString("N"));
    public ErrorReportingTests() => Directory.CreateDirectory(_dir);
    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter(); var stderr = new StringWriter();
        int code = CommandLine.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static void AssertOneLine(string err)
    {
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.DoesNotContain("   at ", err);
        Assert.StartsWith("alignsharp: ", err);
    }

    private static string Repo([System.Runtime.CompilerServices.CallerFilePath] string here = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", ".."));

    /// <summary>The demo with the repository's constitution (so only the setting under test is wrong) writing under the test folder.</summary>
    private string[] Demo(params string[] settings) =>
        ["demo", "--set", $"runs_dir={_dir}", "--set", $"constitution={Path.Combine(Repo(), "recipes", "constitution.yaml")}", .. settings.SelectMany(s => new[] { "--set", s })];

    [Fact]
    public void A_bad_constitution_file_is_one_line_naming_the_file_and_line()
    {
        string bad = Path.Combine(_dir, "bad-constitution.yaml");
        File.WriteAllText(bad, "name: broken\nprinciples:\n  - id: a\n    text: [unclosed\n");
        var (code, _, err) = Run(Demo($"constitution={bad}"));
        Assert.Equal(1, code);
        AssertOneLine(err);
        Assert.Matches(@"bad-constitution\.yaml:\d+", err);
        Assert.False(Directory.Exists(Path.Combine(_dir, "demo", "tokenizer")), "the tokenizer stage ran before the recipe was checked");
    }

    [Fact]
    public void Heads_that_do_not_divide_hidden_size_fail_before_any_stage_naming_the_recipe_keys()
    {
        var (code, _, err) = Run(Demo("heads=5"));
        Assert.Equal(1, code);
        AssertOneLine(err);
        Assert.Contains("heads: hidden_size 192 must be divisible by heads 5", err);
        Assert.DoesNotContain("config.json", err);
        Assert.False(Directory.Exists(Path.Combine(_dir, "demo")), "a stage ran before the recipe was checked");
    }

    [Theory]
    [InlineData("max_operand=0", "max_operand must be ≥ 1 (got 0)")]
    [InlineData("kv_heads=4", "kv_heads: heads 6 must be divisible by kv_heads 4")]
    [InlineData("hidden_size=198", "head size hidden_size / heads = 198 / 6 = 33 must be even")]
    [InlineData("wrong_answer_rate=1.5", "wrong_answer_rate must be in [0, 1] (got 1.5)")]
    [InlineData("samples_per_prompt=1", "samples_per_prompt must be ≥ 2 (got 1)")]
    [InlineData("tokenizer_vocab_size=100", "tokenizer_vocab_size must be ≥ 259 (got 100)")]
    [InlineData("signal=vote", "signal: 'vote' is not one of lexicographic | weighted")]
    public void Demo_recipe_values_are_checked_by_their_recipe_key(string setting, string message)
    {
        var (code, _, err) = Run(Demo(setting));
        Assert.Equal(1, code);
        AssertOneLine(err);
        Assert.Contains(message, err);
        Assert.DoesNotContain("MaxOperand", err);
        Assert.False(Directory.Exists(Path.Combine(_dir, "demo")));
    }

    [Theory]
    [InlineData(1, "judge_principles=[be_kind]", "judge_principles: ", "has no principle 'be_kind'")]
    [InlineData(2, "judge.endpoint=http://127.0.0.1:9/v1", "judge: model is required", "the model name the endpoint serves")]
    [InlineData(2, "judge.temperature=0", "judge.temperature", "unknown key")]
    public void The_judge_settings_are_checked_before_any_stage(int rc, string setting, string names, string says)
    {
        var (code, _, err) = Run(Demo("signal=judge", setting));
        Assert.Equal(rc, code);
        AssertOneLine(err);
        Assert.Contains(names, err);
        Assert.Contains(says, err);
        Assert.False(Directory.Exists(Path.Combine(_dir, "demo", "tokenizer")), "a stage ran before the recipe was checked");
    }

    [Fact]
    public void A_dotted_key_that_names_no_role_is_an_unknown_key()
    {
        var (code, _, err) = Run(Demo("sft.epochs=3"));
        Assert.Equal(1, code);
        AssertOneLine(err);
        Assert.Contains("unknown key 'sft.epochs'", err);
    }

    [Fact]
    public void A_judge_block_without_signal_judge_is_refused()
    {
        var (code, _, err) = Run(Demo("judge.model=somewhere"));
        Assert.Equal(2, code);
        AssertOneLine(err);
        Assert.Contains("add --set signal=judge", err);
    }

    /// <summary>A model folder holding only config.json with 64 positions: enough for the checks that read it first.</summary>
    private string SixtyFourPositionModel()
    {
        string model = Path.Combine(_dir, "model");
        Directory.CreateDirectory(model);
        File.WriteAllText(Path.Combine(model, "config.json"), """
            {"model_type": "llama", "vocab_size": 300, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
             "num_attention_heads": 2, "num_key_value_heads": 1, "max_position_embeddings": 64}
            """);
        return model;
    }

    [Fact]
    public void Max_length_above_the_models_positions_is_refused_before_training_and_in_the_demo()
    {
        string model = SixtyFourPositionModel();
        string data = Path.Combine(_dir, "data.jsonl");
        File.WriteAllText(data, """{"text": "hello"}""" + "\n");
        var (code, _, err) = Run("train", "sft", "--set", $"model={model}", "--set", $"dataset={data}", "--set", "max_length=128", "--set", $"output_dir={Path.Combine(_dir, "out")}");
        Assert.Equal(1, code);
        AssertOneLine(err);
        Assert.Contains("max_length 128 is above the model's max_position_embeddings 64", err);
        Assert.False(Directory.Exists(Path.Combine(_dir, "out")));

        (code, _, err) = Run(Demo($"model={model}", "max_length=96"));
        Assert.Equal(1, code);
        AssertOneLine(err);
        Assert.Contains("max_length 96 is above the model's max_position_embeddings 64", err);
    }

    [Fact]
    public void A_too_small_vocabulary_is_one_usage_line_with_rc_2()
    {
        string corpus = Path.Combine(_dir, "corpus.txt");
        File.WriteAllText(corpus, "some text\n");
        var (code, _, err) = Run("tokenizer", "train", "--input", corpus, "--vocab-size", "10", "--out", Path.Combine(_dir, "tok"));
        Assert.Equal(2, code);
        AssertOneLine(err);
        Assert.Contains("--vocab-size 10 is too small: the minimum is 256", err);
    }

    public static TheoryData<Exception, int> LibraryExceptions() => new()
    {
        { new UsageException("x"), 2 },
        { new AlignSharp.Models.Tokenizers.TokenizerException("x"), 1 },
        { new AlignSharp.Models.Checkpoints.SafetensorsException("x"), 1 },
        { new AlignSharp.Models.Transformers.ModelFormatException("x"), 1 },
        { new AlignSharp.Training.TrainingException("x"), 1 },
        { new AlignSharp.Feedback.FeedbackException("x"), 1 },
        { new AlignSharp.Eval.EvalException("x"), 1 },
        { new FileNotFoundException("x"), 1 },
        { new UnauthorizedAccessException("x"), 1 },
        { new ArgumentOutOfRangeException("x"), 1 },
        { new FormatException("x"), 1 },
    };

    [Theory]
    [MemberData(nameof(LibraryExceptions))]
    public void Each_library_exception_type_is_one_line_with_its_exit_code(Exception e, int expected)
    {
        var stderr = new StringWriter();
        Assert.Equal(expected, CommandLine.Report(e, stderr));
        AssertOneLine(stderr.ToString());
        Assert.DoesNotContain("this is a bug", stderr.ToString());
    }

    [Fact]
    public void An_unexpected_exception_is_one_line_that_says_it_is_a_bug()
    {
        var stderr = new StringWriter();
        Assert.Equal(1, CommandLine.Report(new InvalidOperationException("sequence\ncontains no elements"), stderr));
        AssertOneLine(stderr.ToString());
        Assert.Contains("unexpected InvalidOperationException: sequence contains no elements", stderr.ToString());
        Assert.Contains("(this is a bug; ALIGNSHARP_DEBUG=1 shows the stack trace)", stderr.ToString());
    }
}

