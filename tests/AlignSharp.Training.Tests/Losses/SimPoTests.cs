using AlignSharp.Training.Trainers;

namespace AlignSharp.Training.Tests.Losses;

public class SimPoTests
{
    public static TheoryData<string> Cases => LossFixtures.Names("simpo");

    private static SimPoOptions Options(System.Text.Json.JsonElement o) => new()
    {
        Beta = (float)o.GetProperty("beta").GetDouble(),
        SimpoGamma = (float)o.GetProperty("simpo_gamma").GetDouble(),
        CpoAlpha = (float)o.GetProperty("cpo_alpha").GetDouble(),
        LabelSmoothing = (float)o.GetProperty("label_smoothing").GetDouble(),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_torch(string name)
    {
        // From per-sequence log-prob sums and token counts: the averages and CPO's NLL term are both computed inside.
        var fixture = LossFixtures.Case("simpo", name);
        var inputs = fixture.GetProperty("inputs");
        var chosen = LossFixtures.Policy(inputs.GetProperty("chosen").Floats());
        var rejected = LossFixtures.Policy(inputs.GetProperty("rejected").Floats());

        var result = SimPo.Loss(chosen, rejected, inputs.GetProperty("chosen_counts").Ints(), inputs.GetProperty("rejected_counts").Ints(), Options(fixture.GetProperty("options")));
        result.Loss.Backward();

        LossFixtures.MatchesLossAndMetrics(fixture, result);
        LossFixtures.MatchesGradient(fixture, chosen, "chosen");
        LossFixtures.MatchesGradient(fixture, rejected, "rejected");
    }

    [Fact]
    public void Gradient_matches_finite_differences()
    {
        var fixture = LossFixtures.Case("simpo", "beta2_gamma0.5_alpha0.3");
        var inputs = fixture.GetProperty("inputs");
        var chosen = LossFixtures.Policy(inputs.GetProperty("chosen").Floats());
        var rejected = LossFixtures.Policy(inputs.GetProperty("rejected").Floats());
        int[] chosenCounts = inputs.GetProperty("chosen_counts").Ints(), rejectedCounts = inputs.GetProperty("rejected_counts").Ints();
        var options = Options(fixture.GetProperty("options"));
        LossFixtures.MatchesFiniteDifferences(() => SimPo.Loss(chosen, rejected, chosenCounts, rejectedCounts, options).Loss, chosen);
        LossFixtures.MatchesFiniteDifferences(() => SimPo.Loss(chosen, rejected, chosenCounts, rejectedCounts, options).Loss, rejected);
    }

    [Fact]
    public void Defaults_are_trls_cpo_config_for_simpo()
    {
        // TRL's CPOConfig (loss_type "simpo"): beta 0.1, simpo_gamma 0.5, cpo_alpha 1.0, label_smoothing 0.
        var options = new SimPoOptions();
        Assert.Equal((0.1f, 0.5f, 1.0f, 0f), (options.Beta, options.SimpoGamma, options.CpoAlpha, options.LabelSmoothing));
    }
}
