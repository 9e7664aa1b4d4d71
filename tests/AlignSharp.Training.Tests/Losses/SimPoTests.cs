using AlignSharp.Training.Trainers;

namespace AlignSharp.Training.Tests.Losses;

public class SimPoTests
{
    public static TheoryData<string> Cases => LossFixtures.Names("simpo");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_torch(string name)
    {
        var fixture = LossFixtures.Case("simpo", name);
        var inputs = fixture.GetProperty("inputs");
        var o = fixture.GetProperty("options");
        var options = new SimPoOptions
        {
            Beta = (float)o.GetProperty("beta").GetDouble(),
            GammaBetaRatio = (float)o.GetProperty("gamma_beta_ratio").GetDouble(),
            LabelSmoothing = (float)o.GetProperty("label_smoothing").GetDouble(),
        };
        var chosen = LossFixtures.Policy(inputs.GetProperty("chosen").Floats());
        var rejected = LossFixtures.Policy(inputs.GetProperty("rejected").Floats());

        var result = SimPo.Loss(chosen, rejected, options);
        result.Loss.Backward();

        LossFixtures.MatchesLossAndMetrics(fixture, result);
        LossFixtures.MatchesGradient(fixture, chosen, "chosen");
        LossFixtures.MatchesGradient(fixture, rejected, "rejected");
    }

    [Fact]
    public void Defaults_are_the_papers()
    {
        var options = new SimPoOptions();
        Assert.Equal((2.0f, 0.5f, 0f), (options.Beta, options.GammaBetaRatio, options.LabelSmoothing));
    }
}
