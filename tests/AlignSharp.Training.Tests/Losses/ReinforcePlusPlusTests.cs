using AlignSharp.Tensors;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Training.Tests.Losses;

public class ReinforcePlusPlusTests
{
    public static TheoryData<string> AdvantageCases => LossFixtures.Names("reinforce_pp_advantages");
    public static TheoryData<string> LossCases => LossFixtures.Names("reinforce_pp");

    [Theory]
    [MemberData(nameof(AdvantageCases))]
    public void Advantages_match_torch(string name)
    {
        // Per-token −β·k1 plus the score at the last active token, reverse cumulative returns, global whitening.
        var fixture = LossFixtures.Case("reinforce_pp_advantages", name);
        var inputs = fixture.GetProperty("inputs");
        var o = fixture.GetProperty("options");
        var options = new ReinforcePlusPlusOptions
        {
            Beta = (float)o.GetProperty("beta").GetDouble(),
            Gamma = (float)o.GetProperty("gamma").GetDouble(),
            AdvantageStdNorm = o.GetProperty("advantage_std_norm").GetBoolean(),
        };
        var result = ReinforcePlusPlus.Advantages(inputs.GetProperty("scores").Floats(), inputs.GetProperty("old").Floats(),
            inputs.GetProperty("ref").Floats(), inputs.GetProperty("mask").Floats(), options);

        LossFixtures.Close(fixture.GetProperty("returns").Floats(), result.Returns, $"{name}: returns", abs: 1e-6);
        LossFixtures.Close(fixture.GetProperty("advantages").Floats(), result.Advantages, $"{name}: advantages", abs: 1e-6);
        LossFixtures.Close(fixture.GetProperty("mean").GetDouble(), result.Mean, $"{name}: mean", abs: 1e-6);
        LossFixtures.Close(fixture.GetProperty("std").GetDouble(), result.Std, $"{name}: std", abs: 1e-6);
    }

    [Theory]
    [MemberData(nameof(LossCases))]
    public void Loss_matches_torch(string name)
    {
        var fixture = LossFixtures.Case("reinforce_pp", name);
        var inputs = fixture.GetProperty("inputs");
        var o = fixture.GetProperty("options");
        int b = fixture.GetProperty("b").GetInt32(), t = fixture.GetProperty("t").GetInt32();
        var logps = Tensor.Parameter(Tensor.FromArray(inputs.GetProperty("logps").Floats(), b, t));
        var options = new ReinforcePlusPlusOptions { Epsilon = (float)o.GetProperty("epsilon").GetDouble(), EpsilonHigh = o.GetProperty("epsilon_high").OptionalFloat() };
        var result = ReinforcePlusPlus.Loss(logps, GrpoTests.OptionalFloats(inputs.GetProperty("old")), inputs.GetProperty("advantages").Floats(),
            inputs.GetProperty("mask").Floats(), options, GrpoTests.OptionalFloats(inputs.GetProperty("entropy")));
        result.Loss.Backward();
        LossFixtures.MatchesLossAndMetrics(fixture, result);
        LossFixtures.MatchesGradient(fixture, logps, "logps");
    }

    [Fact]
    public void A_nan_score_leaves_only_the_kl_terms_and_whitening_is_global()
    {
        // β = 0, scores [2, NaN]: row 0's returns are 2 at each active token, row 1's 0; whitened over all 4 active tokens.
        var result = ReinforcePlusPlus.Advantages(new[] { 2f, float.NaN }, null, null, new[] { 1f, 1f, 0f, 1f, 1f, 0f }, new ReinforcePlusPlusOptions { Beta = 0f });
        LossFixtures.Close(new[] { 2f, 2f, 0f, 0f, 0f, 0f }, result.Returns, "returns");
        LossFixtures.Close(new[] { 1f, 1f, 0f, -1f, -1f, 0f }, result.Advantages, "advantages", abs: 1e-6);
    }

    [Fact]
    public void Defaults_follow_openrlhf()
    {
        var o = new ReinforcePlusPlusOptions();
        Assert.Equal((0.01f, 1f, 0.2f, true, 1), (o.Beta, o.Gamma, o.Epsilon, o.AdvantageStdNorm, o.NumIterations));
        Assert.Null(ReinforcePlusPlus.OptionsProblem(o));
        Assert.Contains("gamma must be in (0, 1]", ReinforcePlusPlus.OptionsProblem(o with { Gamma = 0f }));
        Assert.Throws<ArgumentException>(() => ReinforcePlusPlus.Advantages(new[] { 1f }, null, null, new[] { 1f, 1f }, o));
    }
}
