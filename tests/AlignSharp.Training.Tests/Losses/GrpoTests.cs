using System.Text.Json;
using AlignSharp.Tensors;
using AlignSharp.Training.Config;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Training.Tests.Losses;

public class GrpoTests
{
    public static TheoryData<string> AdvantageCases => LossFixtures.Names("grpo_advantages");
    public static TheoryData<string> LossCases => LossFixtures.Names("grpo");

    private static RewardScaling Scaling(string name) => name switch
    {
        "group" => RewardScaling.Group,
        "batch" => RewardScaling.Batch,
        "none" => RewardScaling.None,
        _ => throw new ArgumentException(name),
    };

    internal static float[]? OptionalFloats(JsonElement e) => e.ValueKind == JsonValueKind.Null ? null : e.Floats();

    [Theory]
    [MemberData(nameof(AdvantageCases))]
    public void Advantages_match_torch(string name)
    {
        var fixture = LossFixtures.Case("grpo_advantages", name);
        var options = fixture.GetProperty("options");
        var result = Grpo.Advantages(fixture.GetProperty("inputs").GetProperty("rewards").Floats(),
            options.GetProperty("num_generations").GetInt32(), Scaling(options.GetProperty("scale_rewards").GetString()!));

        LossFixtures.Close(fixture.GetProperty("advantages").Floats(), result.Advantages, $"{name}: advantages", abs: 1e-6);
        LossFixtures.Close(fixture.GetProperty("group_mean").Floats(), result.GroupMean, $"{name}: group mean");
        LossFixtures.Close(fixture.GetProperty("group_std").Floats(), result.GroupStd, $"{name}: group std", abs: 1e-6);
        Assert.Equal(fixture.GetProperty("zero_std_groups").Bools(), result.ZeroStdGroups);
        LossFixtures.Close(fixture.GetProperty("frac_reward_zero_std").GetDouble(), result.FracRewardZeroStd, $"{name}: frac_reward_zero_std");
    }

    private static GrpoOptions Options(JsonElement o) => new()
    {
        LossType = ConfigBinder.Bind(new GrpoOptions(), new Dictionary<string, (string, string)> { ["loss_type"] = (o.GetProperty("loss_type").GetString()!, "fixture") }).LossType,
        ImportanceSamplingLevel = o.GetProperty("importance_sampling_level").GetString() == "token" ? ImportanceSamplingLevel.Token : ImportanceSamplingLevel.Sequence,
        Epsilon = (float)o.GetProperty("epsilon").GetDouble(),
        EpsilonHigh = o.GetProperty("epsilon_high").OptionalFloat(),
        Delta = o.GetProperty("delta").OptionalFloat(),
        Beta = (float)o.GetProperty("beta").GetDouble(),
        MaxCompletionLength = o.GetProperty("max_completion_length").GetInt32(),
    };

    private static (Tensor Logps, LossResult Result) Run(string name)
    {
        var fixture = LossFixtures.Case("grpo", name);
        var inputs = fixture.GetProperty("inputs");
        var o = fixture.GetProperty("options");
        int b = fixture.GetProperty("b").GetInt32(), t = fixture.GetProperty("t").GetInt32();
        var logps = Tensor.Parameter(Tensor.FromArray(inputs.GetProperty("logps").Floats(), b, t));
        var scale = new GrpoLossScale(o.GetProperty("gas").GetInt32(), o.GetProperty("generation_active_tokens").GetInt32());
        var result = Grpo.Loss(logps, OptionalFloats(inputs.GetProperty("old")), OptionalFloats(inputs.GetProperty("ref")),
            inputs.GetProperty("advantages").Floats(), inputs.GetProperty("mask").Floats(), Options(o), scale, OptionalFloats(inputs.GetProperty("entropy")));
        return (logps, result);
    }

    [Theory]
    [MemberData(nameof(LossCases))]
    public void Loss_matches_torch(string name)
    {
        // Every loss_type × importance_sampling_level, advantages from each scale_rewards, β with k3, clip-higher,
        // delta, old = current (null) and old ≠ current, gradient accumulation, a fully masked row and padding.
        var fixture = LossFixtures.Case("grpo", name);
        var (logps, result) = Run(name);
        result.Loss.Backward();

        LossFixtures.MatchesLossAndMetrics(fixture, result);
        LossFixtures.MatchesGradient(fixture, logps, "logps");
    }

    [Fact]
    public void After_the_trainers_one_over_gas_the_loss_is_trls()
    {
        // TRL passes compute_loss_func so HF adds no 1/GAS; our Trainer always multiplies by 1/GAS.
        var fixture = LossFixtures.Case("grpo", "dapo_token_beta0.04_gas3");
        var (_, result) = Run("dapo_token_beta0.04_gas3");
        LossFixtures.Close(fixture.GetProperty("trl_loss").GetDouble(), result.Loss.Item() / 3.0, "trl_loss");
        fixture = LossFixtures.Case("grpo", "grpo_sequence_beta0.04_gas3");
        (_, result) = Run("grpo_sequence_beta0.04_gas3");
        LossFixtures.Close(fixture.GetProperty("trl_loss").GetDouble(), result.Loss.Item() / 3.0, "trl_loss");
    }

    [Fact]
    public void Gradient_matches_finite_differences()
    {
        var fixture = LossFixtures.Case("grpo", "bnpo_sequence_beta0.04_gas3");
        var inputs = fixture.GetProperty("inputs");
        var o = fixture.GetProperty("options");
        int b = fixture.GetProperty("b").GetInt32(), t = fixture.GetProperty("t").GetInt32();
        var logps = Tensor.Parameter(Tensor.FromArray(inputs.GetProperty("logps").Floats(), b, t));
        float[] old = inputs.GetProperty("old").Floats(), reference = inputs.GetProperty("ref").Floats();
        float[] advantages = inputs.GetProperty("advantages").Floats(), mask = inputs.GetProperty("mask").Floats();
        var options = Options(o);
        var scale = new GrpoLossScale(3);
        LossFixtures.MatchesFiniteDifferences(() => Grpo.Loss(logps, old, reference, advantages, mask, options, scale).Loss, logps, step: 1e-3f);
    }

    [Fact]
    public void With_old_equal_to_current_the_ratio_is_one_and_the_gradient_is_the_policy_gradient()
    {
        // num_iterations 1: loss value −Σ W·A, gradient −W·A per token (w ≡ 1 with d w = d log π).
        var logps = Tensor.Parameter(Tensor.FromArray(new[] { -1f, -2f, -0.5f, -3f }, 2, 2));
        var result = Grpo.Loss(logps, null, null, new[] { 1f, -0.5f }, new[] { 1f, 1f, 1f, 0f },
            new GrpoOptions { LossType = GrpoLossType.Bnpo }, new GrpoLossScale());
        result.Loss.Backward();
        LossFixtures.Close(-(1 + 1 - 0.5) / 3.0, result.Loss.Item(), "loss");
        LossFixtures.Close(new[] { -1f / 3, -1f / 3, 0.5f / 3, 0f }, logps.Grad!.Span, "grad");
        Assert.Equal(0f, result.Metrics["clip_ratio/region_mean"]);
    }

    [Fact]
    public void A_nan_reward_gets_advantage_zero_and_is_left_out_of_the_group_statistics()
    {
        // Group 1 [1, 3, NaN, 5]: mean 3, std 2 over the three valid; group 2 all valid.
        float nan = float.NaN;
        var rewards = new[] { 1f, 3f, nan, 5f, 0f, 1f, 0f, 1f };
        var group = Grpo.Advantages(rewards, 4, RewardScaling.Group);
        Assert.Equal(0f, group.Advantages[2]);
        LossFixtures.Close(3.0, group.GroupMean[0], "mean");
        LossFixtures.Close(2.0, group.GroupStd[0], "std");
        LossFixtures.Close(new[] { (float)(-2 / 2.0001), 0f, 0f, (float)(2 / 2.0001) }, group.Advantages.AsSpan(0, 4), "group 1");

        // Batch std over the 7 valid rewards only.
        var batch = Grpo.Advantages(rewards, 4, RewardScaling.Batch);
        var valid = rewards.Where(r => !float.IsNaN(r)).Select(r => (double)r).ToArray();
        double mean = valid.Average(), std = Math.Sqrt(valid.Sum(r => (r - mean) * (r - mean)) / (valid.Length - 1));
        LossFixtures.Close((1 - 3) / (std + 1e-4), batch.Advantages[0], "batch-scaled");
        Assert.Equal(0f, batch.Advantages[2]);

        // A group with one valid reward: advantage 0, std 0 (zero-std group); all NaN: mean NaN, advantages 0.
        var lonely = Grpo.Advantages(new[] { nan, 2f, nan, nan, nan, nan }, 3, RewardScaling.Group);
        Assert.All(lonely.Advantages, a => Assert.Equal(0f, a));
        Assert.Equal(new[] { true, true }, lonely.ZeroStdGroups);
        Assert.True(float.IsNaN(lonely.GroupMean[1]));
    }

    [Fact]
    public void Defaults_are_trls_grpo_config()
    {
        var o = new GrpoOptions();
        Assert.Equal((8, GrpoLossType.Dapo, RewardScaling.Group, 0.2f, (float?)null, 0f), (o.NumGenerations, o.LossType, o.ScaleRewards, o.Epsilon, o.EpsilonHigh, o.Beta));
        Assert.Equal((ImportanceSamplingLevel.Token, 1, false, 256, 1f, 1f, 0), (o.ImportanceSamplingLevel, o.NumIterations, o.MaskTruncatedCompletions, o.MaxCompletionLength, o.Temperature, o.TopP, o.TopK));
        Assert.Null(o.StepsPerGeneration);
        Assert.Null(o.Delta);
        Assert.False(o.DynamicSampling);
        Assert.Equal(0.2f, o.EffectiveEpsilonHigh);
        Assert.Null(Grpo.OptionsProblem(o));
    }

    [Fact]
    public void Recipe_spellings_bind()
    {
        var values = new Dictionary<string, (string, string)>
        {
            ["loss_type"] = ("dr_grpo", "recipe"), ["scale_rewards"] = ("none", "recipe"), ["importance_sampling_level"] = ("sequence", "recipe"),
            ["epsilon_high"] = ("0.28", "recipe"), ["steps_per_generation"] = ("4", "recipe"), ["dynamic_sampling"] = ("true", "recipe"),
        };
        var o = ConfigBinder.Bind(new GrpoOptions(), values);
        Assert.Empty(values);
        Assert.Equal((GrpoLossType.DrGrpo, RewardScaling.None, ImportanceSamplingLevel.Sequence, 0.28f, 4, true),
            (o.LossType, o.ScaleRewards, o.ImportanceSamplingLevel, o.EffectiveEpsilonHigh, o.StepsPerGeneration!.Value, o.DynamicSampling));
        Assert.Equal(new[] { "grpo", "bnpo", "dr_grpo", "dapo" }, ConfigBinder.Allowed(typeof(GrpoOptions).GetProperty(nameof(GrpoOptions.LossType))!));
    }

    [Theory]
    [InlineData("num_generations", "1", "num_generations must be at least 2")]
    [InlineData("epsilon", "1.5", "epsilon must be in [0, 1)")]
    [InlineData("epsilon_high", "-0.1", "epsilon_high must be")]
    [InlineData("delta", "0.9", "delta must be")]
    [InlineData("beta", "-1", "beta must be")]
    [InlineData("num_iterations", "0", "num_iterations must be")]
    [InlineData("top_p", "0", "top_p must be in (0, 1]")]
    [InlineData("top_k", "-1", "top_k must be")]
    [InlineData("temperature", "0", "temperature must be")]
    [InlineData("max_completion_length", "0", "max_completion_length must be")]
    [InlineData("steps_per_generation", "0", "steps_per_generation must be")]
    public void Options_problems_name_the_key(string key, string value, string message)
    {
        var o = ConfigBinder.Bind(new GrpoOptions(), new Dictionary<string, (string, string)> { [key] = (value, "recipe") });
        Assert.Contains(message, Grpo.OptionsProblem(o));
    }

    [Fact]
    public void Loss_refuses_inconsistent_inputs()
    {
        var logps = Tensor.Parameter(Tensor.FromArray(new[] { -1f, -2f, -0.5f, -3f }, 2, 2));
        float[] mask = { 1, 1, 1, 0 }, advantages = { 1, -1 };
        var dapo = new GrpoOptions();
        Assert.Contains("GenerationActiveTokens", Assert.Throws<ArgumentOutOfRangeException>(() => Grpo.Loss(logps, null, null, advantages, mask, dapo, new GrpoLossScale())).Message);
        Assert.Contains("reference", Assert.Throws<ArgumentException>(() => Grpo.Loss(logps, null, null, advantages, mask, dapo with { Beta = 0.1f }, new GrpoLossScale(1, 3))).Message);
        Assert.Contains("mask", Assert.Throws<ArgumentException>(() => Grpo.Loss(logps, null, null, advantages, new float[3], dapo, new GrpoLossScale(1, 3))).Message);
        Assert.Contains("whole groups", Assert.Throws<ArgumentException>(() => Grpo.Advantages(new float[5], 2, RewardScaling.Group)).Message);
    }
}
