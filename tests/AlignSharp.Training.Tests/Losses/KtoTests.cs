using AlignSharp.Training.Trainers;

namespace AlignSharp.Training.Tests.Losses;

public class KtoTests
{
    public static TheoryData<string> Cases => LossFixtures.Names("kto");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_torch(string name)
    {
        var fixture = LossFixtures.Case("kto", name);
        var inputs = fixture.GetProperty("inputs");
        var o = fixture.GetProperty("options");
        var options = new KtoOptions
        {
            Beta = (float)o.GetProperty("beta").GetDouble(),
            DesirableWeight = (float)o.GetProperty("desirable_weight").GetDouble(),
            UndesirableWeight = (float)o.GetProperty("undesirable_weight").GetDouble(),
        };
        var policy = LossFixtures.Policy(inputs.GetProperty("policy").Floats());
        var policyKl = LossFixtures.Policy(inputs.GetProperty("policy_kl").Floats());

        var result = Kto.Loss(policy, LossFixtures.Constant(inputs.GetProperty("reference").Floats()), inputs.GetProperty("desirable").Bools(),
            policyKl, LossFixtures.Constant(inputs.GetProperty("reference_kl").Floats()), options);
        result.Loss.Backward();

        LossFixtures.MatchesLossAndMetrics(fixture, result);
        LossFixtures.MatchesGradient(fixture, policy, "policy");
        Assert.Null(policyKl.Grad); // z₀ is detached, as in TRL
    }

    [Fact]
    public void Gradient_matches_finite_differences()
    {
        var inputs = LossFixtures.Case("kto", "mixed_weights").GetProperty("inputs");
        var policy = LossFixtures.Policy(inputs.GetProperty("policy").Floats());
        var reference = LossFixtures.Constant(inputs.GetProperty("reference").Floats());
        var desirable = inputs.GetProperty("desirable").Bools();
        var policyKl = LossFixtures.Constant(inputs.GetProperty("policy_kl").Floats());
        var referenceKl = LossFixtures.Constant(inputs.GetProperty("reference_kl").Floats());
        var options = new KtoOptions { DesirableWeight = 1.33f, UndesirableWeight = 0.7f };
        LossFixtures.MatchesFiniteDifferences(() => Kto.Loss(policy, reference, desirable, policyKl, referenceKl, options).Loss, policy);
    }
}
