using AlignSharp.Tensors;
using AlignSharp.Training.Config;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Training.Tests.Losses;

public class RlooTests
{
    public static TheoryData<string> AdvantageCases => LossFixtures.Names("rloo_advantages");
    public static TheoryData<string> LossCases => LossFixtures.Names("rloo");

    [Theory]
    [MemberData(nameof(AdvantageCases))]
    public void Advantages_match_torch(string name)
    {
        // From raw per-token old/ref log-probs: the summed k1 KL, reward − β·KL, leave-one-out baseline, normalisation.
        var fixture = LossFixtures.Case("rloo_advantages", name);
        var inputs = fixture.GetProperty("inputs");
        var o = fixture.GetProperty("options");
        float beta = (float)o.GetProperty("beta").GetDouble();
        var kl = Rloo.SequenceKl(inputs.GetProperty("old").Floats(), inputs.GetProperty("ref").Floats(), inputs.GetProperty("mask").Floats(), fixture.GetProperty("t").GetInt32());
        var result = Rloo.Advantages(inputs.GetProperty("rewards").Floats(), kl, o.GetProperty("num_generations").GetInt32(), beta, o.GetProperty("normalize_advantages").GetBoolean());

        LossFixtures.Close(fixture.GetProperty("kl").Floats(), kl, $"{name}: kl", abs: 1e-6);
        LossFixtures.Close(fixture.GetProperty("rewards").Floats(), result.Rewards, $"{name}: penalised rewards", abs: 1e-6);
        LossFixtures.Close(fixture.GetProperty("advantages").Floats(), result.Advantages, $"{name}: advantages", abs: 1e-6);
        LossFixtures.Close(fixture.GetProperty("group_std").Floats(), result.GroupStd, $"{name}: group std", abs: 1e-6);
        LossFixtures.Close(fixture.GetProperty("frac_reward_zero_std").GetDouble(), result.FracRewardZeroStd, $"{name}: frac_reward_zero_std");
    }

    private static (Tensor Logps, LossResult Result) Run(string name)
    {
        var fixture = LossFixtures.Case("rloo", name);
        var inputs = fixture.GetProperty("inputs");
        var o = fixture.GetProperty("options");
        int b = fixture.GetProperty("b").GetInt32(), t = fixture.GetProperty("t").GetInt32();
        var logps = Tensor.Parameter(Tensor.FromArray(inputs.GetProperty("logps").Floats(), b, t));
        var options = new RlooOptions { Epsilon = (float)o.GetProperty("epsilon").GetDouble(), EpsilonHigh = o.GetProperty("epsilon_high").OptionalFloat() };
        var result = Rloo.Loss(logps, GrpoTests.OptionalFloats(inputs.GetProperty("old")), inputs.GetProperty("advantages").Floats(),
            inputs.GetProperty("mask").Floats(), options, GrpoTests.OptionalFloats(inputs.GetProperty("entropy")));
        return (logps, result);
    }

    [Theory]
    [MemberData(nameof(LossCases))]
    public void Loss_matches_torch(string name)
    {
        var fixture = LossFixtures.Case("rloo", name);
        var (logps, result) = Run(name);
        result.Loss.Backward();
        LossFixtures.MatchesLossAndMetrics(fixture, result);
        LossFixtures.MatchesGradient(fixture, logps, "logps");
    }

    [Fact]
    public void A_nan_reward_gets_advantage_zero_and_is_left_out_of_the_baselines()
    {
        // Group [1, NaN, 4, 7]: baselines from the other valid rewards only.
        var result = Rloo.Advantages(new[] { 1f, float.NaN, 4f, 7f, 2f, 2f, 2f, 2f }, null, 4, 0f, normalize: false);
        LossFixtures.Close(new[] { 1 - 5.5f, 0f, 4 - 4f, 7 - 2.5f, 0f, 0f, 0f, 0f }, result.Advantages, "advantages");
        LossFixtures.Close(0.5, result.FracRewardZeroStd, "frac_reward_zero_std");

        // Normalised over the valid rows; the NaN row stays 0.
        var normalized = Rloo.Advantages(new[] { 1f, float.NaN, 4f, 7f }, null, 4, 0f, normalize: true);
        Assert.Equal(0f, normalized.Advantages[1]);
        LossFixtures.Close(0.0, normalized.Advantages[0] + normalized.Advantages[2] + normalized.Advantages[3], "sum of normalised", abs: 1e-5);
    }

    [Fact]
    public void Defaults_are_trls_rloo_config()
    {
        var o = new RlooOptions();
        Assert.Equal((2, 0.05f, 0.2f, (float?)null, false, 1), (o.NumGenerations, o.Beta, o.Epsilon, o.EpsilonHigh, o.NormalizeAdvantages, o.NumIterations));
        Assert.Equal((256, 1f, 1f, 0, false), (o.MaxCompletionLength, o.Temperature, o.TopP, o.TopK, o.MaskTruncatedCompletions));
        Assert.Null(Rloo.OptionsProblem(o));
        var bound = ConfigBinder.Bind(new RlooOptions(), new Dictionary<string, (string, string)> { ["normalize_advantages"] = ("true", "recipe"), ["num_generations"] = ("1", "recipe") });
        Assert.True(bound.NormalizeAdvantages);
        Assert.Contains("num_generations must be at least 2", Rloo.OptionsProblem(bound));
    }

    [Fact]
    public void Loss_refuses_per_token_advantages_and_beta_without_kl()
    {
        var logps = Tensor.Parameter(Tensor.FromArray(new[] { -1f, -2f, -0.5f, -3f }, 2, 2));
        Assert.Throws<ArgumentException>(() => Rloo.Loss(logps, null, new float[4], new[] { 1f, 1f, 1f, 0f }, new RlooOptions()));
        Assert.Throws<ArgumentException>(() => Rloo.Advantages(new float[4], null, 2, 0.05f, false));
    }
}
