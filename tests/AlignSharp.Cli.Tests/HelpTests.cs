using AlignSharp.Cli;

namespace AlignSharp.Cli.Tests;

/// <summary>Every command and subcommand answers --help and -h with its usage and each option's description.</summary>
public class HelpTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter(); var stderr = new StringWriter();
        int code = CommandLine.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    public static TheoryData<string> CommandPaths() => [.. HelpText.Commands.Select(c => c.Path)];

    [Theory]
    [MemberData(nameof(CommandPaths))]
    public void Each_command_lists_every_option_with_a_description_under_help_and_h(string path)
    {
        var spec = HelpText.Commands.Single(c => c.Path == path);
        Assert.False(string.IsNullOrWhiteSpace(spec.Description), $"{path}: no description");
        foreach (var flag in new[] { "--help", "-h" })
        {
            var (code, output, err) = Run([.. path.Split(' '), flag]);
            Assert.True(code == 0, $"{path} {flag}: rc {code}: {err}");
            Assert.StartsWith($"usage: alignsharp {path}", output);
            var lines = output.Split('\n');
            foreach (var option in spec.Options)
            {
                Assert.False(string.IsNullOrWhiteSpace(option.Description), $"{path} --{option.Name}: no description");
                Assert.Contains(lines, l => l.TrimStart().StartsWith(option.Head + " ") && l.Contains(option.Description));
                if (option.Default is { } d) Assert.Contains($"default: {d}", output);
                if (option.Allowed is { } allowed) Assert.Contains(string.Join(" | ", allowed), output);
            }
        }
    }

    [Fact]
    public void Help_after_other_options_and_positionals_is_still_help()
    {
        var (code, output, _) = Run("tokenizer", "encode", "--tokenizer", "/nonexistent", "-h");
        Assert.Equal(0, code);
        Assert.Contains("--no-special-tokens", output);
        (code, output, _) = Run("model", "info", "some-dir", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--weights", output);
        (code, output, _) = Run("run", "recipes/demo.yaml", "--help");
        Assert.Equal(0, code);
        Assert.Contains("recipe keys", output);
    }

    [Fact]
    public void An_option_value_that_reads_h_is_a_value_not_a_help_request()
    {
        var (code, _, err) = Run("tokenizer", "encode", "--tokenizer", "/nonexistent/tok", "--text", "-h");
        Assert.Equal(1, code);
        Assert.Contains("/nonexistent/tok", err);
    }

    [Theory]
    [InlineData("bench", "gemm", "decode")]
    [InlineData("tokenizer", "train", "corpus")]
    [InlineData("chat", "render", "encode")]
    [InlineData("model", "init", "info")]
    [InlineData("train", "dpo", "simpo")]
    public void Groups_list_their_subcommands(string group, string first, string last)
    {
        foreach (var flag in new[] { "--help", "-h" })
        {
            var (code, output, _) = Run(group, flag);
            Assert.Equal(0, code);
            Assert.Contains($"usage: alignsharp {group} ", output);
            Assert.Contains($"\n  {first}", output);
            Assert.Contains($"\n  {last}", output);
        }
    }

    [Fact]
    public void Overview_names_every_command_and_no_arguments_is_a_usage_error()
    {
        var (code, output, _) = Run("-h");
        Assert.Equal(0, code);
        foreach (var spec in HelpText.Commands.Where(c => !c.Path.StartsWith("train ")))
            Assert.Contains($"\n  {spec.Path}", output);
        Assert.Contains("train sft|rm|dpo|kto|orpo|simpo", output);
        var (none, _, err) = Run();
        Assert.Equal(2, none);
        Assert.Contains("usage: alignsharp <command>", err);
    }

    [Fact]
    public void Version_prints_the_informational_version()
    {
        var (code, output, _) = Run("--version");
        Assert.Equal(0, code);
        Assert.Matches(@"^alignsharp [0-9]+\.[0-9]+\.[0-9]+", output);
        Assert.Equal($"alignsharp {HelpText.Version}", output.TrimEnd());
    }

    [Fact]
    public void Train_help_describes_each_key_and_spells_closed_sets_as_recipes_do()
    {
        var (code, output, _) = Run("train", "dpo", "--help");
        Assert.Equal(0, code);
        var lines = output.Split('\n');
        string Line(string key) => lines.Single(l => l.StartsWith($"  {key}: "));
        Assert.Contains("peak learning rate", Line("learning_rate"));
        Assert.Contains("constant | linear | cosine", Line("lr_scheduler_type"));
        Assert.Contains("keep_end | keep_start", Line("truncation_mode"));
        Assert.StartsWith("  loss_type: sigmoid ", Line("loss_type"));
        Assert.Contains("sigmoid | hinge | ipo", Line("loss_type"));
        // Every shared key carries a description, not only its default.
        foreach (var key in AlignSharp.Training.Config.ConfigBinder.Keys(typeof(AlignSharp.Training.Core.TrainingArguments)))
            Assert.Matches(@"^  [a-z0-9_]+: \S+\s+\S", Line(key));
    }

    [Fact]
    public void A_value_outside_a_closed_set_is_a_usage_error_naming_the_choices()
    {
        var (code, _, err) = Run("tokenizer", "train", "--input", "x.txt", "--vocab-size", "300", "--out", "o", "--style", "bert");
        Assert.Equal(2, code);
        Assert.Contains("--style must be one of llama3 | qwen2 | gpt2 (got 'bert')", err);
        (code, _, err) = Run("train", "sft", "--set", "optim=adam");
        Assert.Equal(1, code);
        Assert.Contains("optim: 'adam' is not one of adamw | sgd", err);
    }

    [Fact]
    public void Options_declared_without_a_registered_spec_still_answer_help()
    {
        // A subcommand added with the plain Options(args, command, values, flags) form prints its options rather than
        // calling --help unknown; HelpText.Commands is where its descriptions belong.
        var stdout = new StringWriter();
        var e = Assert.Throws<HelpRequestedException>(() => new Options(["--out", "x", "-h"], "model merge", ["out", "adapter"], ["force"]));
        foreach (var line in e.Spec.Help()) stdout.WriteLine(line);
        Assert.Contains("usage: alignsharp model merge", stdout.ToString());
        Assert.Contains("--adapter VALUE", stdout.ToString());
        Assert.Contains("--force", stdout.ToString());
    }
}
