using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using AlignSharp.Training.Config;
using AlignSharp.Training.Core;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Training.Tests.Config;

/// <summary>--help text from the options records, and bind errors that name the recipe key, never the C# property.</summary>
public class ConfigBinderHelpTests
{
    private sealed record Sample
    {
        [Description("how hard to pull")]
        public float PullStrength { get; init; } = 0.5f;
        [Description("where to go")]
        [AllowedValues("north", "south")]
        public string Direction { get; init; } = "north";
        public DpoLossType LossType { get; init; } = DpoLossType.Sigmoid;
    }

    private static Dictionary<string, (string, string)> Set(string key, string value) => new() { [key] = (value, "--set") };

    [Fact]
    public void Describe_prints_default_description_and_closed_sets_lower_case()
    {
        var lines = ConfigBinder.Describe(new Sample()).ToList();
        Assert.Matches(@"^  pull_strength: 0\.5 +how hard to pull$", lines[0]);
        Assert.Matches(@"^  direction: north +where to go \(north \| south\)$", lines[1]);
        Assert.Matches(@"^  loss_type: sigmoid +\(sigmoid \| hinge \| ipo", lines[2]);
    }

    [Fact]
    public void Every_training_argument_has_a_description()
    {
        var lines = ConfigBinder.Describe(new TrainingArguments()).ToList();
        Assert.Equal(ConfigBinder.Keys(typeof(TrainingArguments)).Count(), lines.Count);
        Assert.All(lines, l => Assert.Matches(@"^  [a-z0-9_]+: \S+ +\S", l));
    }

    [Fact]
    public void Values_outside_a_closed_set_are_errors_naming_the_recipe_key()
    {
        var e = Assert.Throws<TrainingException>(() => ConfigBinder.Bind(new Sample(), Set("direction", "east")));
        Assert.Equal("--set: direction: 'east' is not one of north | south", e.Message);
        e = Assert.Throws<TrainingException>(() => ConfigBinder.Bind(new Sample(), Set("loss_type", "5")));
        Assert.Contains("loss_type: '5' is not a valid one of sigmoid | hinge | ipo", e.Message);
        Assert.DoesNotContain("LossType", e.Message);
        e = Assert.Throws<TrainingException>(() => ConfigBinder.Bind(new TrainingArguments(), Set("lr_scheduler_type", "step")));
        Assert.Contains("lr_scheduler_type: 'step' is not one of constant | linear | cosine", e.Message);
        Assert.Equal(DpoLossType.Hinge, ConfigBinder.Bind(new Sample(), Set("loss_type", "hinge")).LossType);
    }
}
