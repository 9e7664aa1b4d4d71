using System.Globalization;
using AlignSharp.Cli;

namespace AlignSharp.Cli.Tests;

/// <summary>`train METHOD --help` shows TRL's defaults: the learning rate of each config and loss_type as TRL spells it.</summary>
public class TrainDefaultsTests
{
    private static string Help(string method)
    {
        var stdout = new StringWriter();
        Assert.Equal(0, CommandLine.Run(["train", method, "--help"], stdout, new StringWriter()));
        return stdout.ToString();
    }

    private static string Value(string help, string key) =>
        help.Split('\n').Select(l => l.Trim()).First(l => l.StartsWith(key + ": ")).Substring(key.Length + 2).Split(' ')[0];

    [Theory]
    [InlineData("sft", 2e-5)]   // SFTConfig
    [InlineData("rm", 1e-4)]    // RewardConfig
    [InlineData("dpo", 1e-6)]   // DPOConfig
    [InlineData("kto", 1e-6)]   // KTOConfig
    [InlineData("orpo", 1e-6)]  // ORPOConfig
    [InlineData("simpo", 1e-6)] // CPOConfig
    public void Learning_rate_defaults_are_trls(string method, double expected) =>
        Assert.Equal((float)expected, float.Parse(Value(Help(method), "learning_rate"), CultureInfo.InvariantCulture));

    [Fact]
    public void Loss_type_prints_lower_case()
    {
        Assert.Equal("sigmoid", Value(Help("dpo"), "loss_type"));
    }

    [Theory]
    [InlineData("3")]
    [InlineData("exo_pair")]
    public void Loss_type_accepts_only_the_names_it_prints(string value)
    {
        var stderr = new StringWriter();
        int code = CommandLine.Run(["train", "dpo", "--set", "model=m", "--set", "dataset=d", "--set", $"loss_type={value}"], new StringWriter(), stderr);
        Assert.Equal(1, code);
        Assert.Contains($"--set loss_type: '{value}' is not a valid one of sigmoid | hinge | ipo | robust | cdpo", stderr.ToString());
    }

    [Fact]
    public void Simpo_keys_and_defaults_are_trls_cpo_config()
    {
        var help = Help("simpo");
        Assert.Equal(("0.1", "0.5", "1"), (Value(help, "beta"), Value(help, "simpo_gamma"), Value(help, "cpo_alpha")));
    }
}
