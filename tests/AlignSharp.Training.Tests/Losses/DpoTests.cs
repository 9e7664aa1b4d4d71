using AlignSharp.Tensors;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Training.Tests.Losses;

public class DpoTests
{
    public static TheoryData<string> Cases => LossFixtures.Names("dpo");

    private static DpoOptions Options(System.Text.Json.JsonElement options) => new()
    {
        Beta = (float)options.GetProperty("beta").GetDouble(),
        LossType = Dpo.ParseLossType(options.GetProperty("loss_type").GetString()!),
        LabelSmoothing = (float)options.GetProperty("label_smoothing").GetDouble(),
        RpoAlpha = options.GetProperty("rpo_alpha").OptionalFloat(),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_torch(string name)
    {
        var fixture = LossFixtures.Case("dpo", name);
        var inputs = fixture.GetProperty("inputs");
        var policyChosen = LossFixtures.Policy(inputs.GetProperty("policy_chosen").Floats());
        var policyRejected = LossFixtures.Policy(inputs.GetProperty("policy_rejected").Floats());

        var result = Dpo.Loss(policyChosen, policyRejected,
            LossFixtures.Constant(inputs.GetProperty("reference_chosen").Floats()), LossFixtures.Constant(inputs.GetProperty("reference_rejected").Floats()),
            inputs.GetProperty("chosen_counts").Ints(), inputs.GetProperty("rejected_counts").Ints(), Options(fixture.GetProperty("options")));
        result.Loss.Backward();

        LossFixtures.MatchesLossAndMetrics(fixture, result);
        LossFixtures.MatchesGradient(fixture, policyChosen, "policy_chosen");
        LossFixtures.MatchesGradient(fixture, policyRejected, "policy_rejected");
    }

    [Theory]
    [InlineData("cdpo_rpo")]
    [InlineData("robust_rpo")]
    [InlineData("ipo_rpo")]
    public void Gradient_matches_finite_differences(string name)
    {
        var fixture = LossFixtures.Case("dpo", name);
        var inputs = fixture.GetProperty("inputs");
        var policyChosen = LossFixtures.Policy(inputs.GetProperty("policy_chosen").Floats());
        var policyRejected = LossFixtures.Policy(inputs.GetProperty("policy_rejected").Floats());
        var referenceChosen = LossFixtures.Constant(inputs.GetProperty("reference_chosen").Floats());
        var referenceRejected = LossFixtures.Constant(inputs.GetProperty("reference_rejected").Floats());
        int[] chosenCounts = inputs.GetProperty("chosen_counts").Ints(), rejectedCounts = inputs.GetProperty("rejected_counts").Ints();
        var options = Options(fixture.GetProperty("options"));

        Tensor Loss() => Dpo.Loss(policyChosen, policyRejected, referenceChosen, referenceRejected, chosenCounts, rejectedCounts, options).Loss;
        LossFixtures.MatchesFiniteDifferences(Loss, policyChosen);
        LossFixtures.MatchesFiniteDifferences(Loss, policyRejected);
    }

    [Fact]
    public void Reference_log_probs_get_no_gradient()
    {
        var policy = LossFixtures.Policy([-10f, -12f]);
        var reference = LossFixtures.Policy([-11f, -11f]);
        var result = Dpo.Loss(policy, LossFixtures.Policy([-13f, -9f]), reference, reference, [4, 5], [4, 5]);
        result.Loss.Backward();
        Assert.NotNull(policy.Grad);
        Assert.Null(reference.Grad);
    }

    [Fact]
    public void Zero_margin_gives_log_2()
    {
        var same = LossFixtures.Policy([-5f, -7f, -9f]);
        var result = Dpo.Loss(same, same, LossFixtures.Constant([-5f, -7f, -9f]), LossFixtures.Constant([-5f, -7f, -9f]), [1, 2, 3], [1, 2, 3]);
        Assert.Equal(MathF.Log(2f), result.Loss.Item(), 6);
        Assert.Equal(0f, result.Metrics["rewards/accuracies"]);
    }

    [Fact]
    public void Sigmoid_rejects_label_smoothing_naming_cdpo_and_robust()
    {
        // Current TRL's sigmoid ignores label_smoothing; conservative DPO (TRL <= 0.28's sigmoid with smoothing) is "cdpo" here.
        var x = Tensor.FromArray([-1f], 1);
        var error = Assert.Throws<ArgumentException>(() => Dpo.Loss(x, x, x, x, [1], [1], new DpoOptions { LabelSmoothing = 0.1f }));
        Assert.Contains("loss_type cdpo", error.Message);
        Assert.Contains("robust", error.Message);
    }

    [Fact]
    public void Rejects_label_smoothing_where_no_loss_uses_it_and_unknown_loss_types()
    {
        var x = Tensor.FromArray([-1f], 1);
        foreach (var type in new[] { DpoLossType.Ipo, DpoLossType.Hinge })
        {
            var error = Assert.Throws<ArgumentException>(() => Dpo.Loss(x, x, x, x, [1], [1], new DpoOptions { LossType = type, LabelSmoothing = 0.1f }));
            Assert.Contains("label_smoothing applies to loss_type cdpo and robust only", error.Message);
        }
        Assert.Contains("robust needs label_smoothing below 0.5", Assert.Throws<ArgumentException>(() =>
            Dpo.Loss(x, x, x, x, [1], [1], new DpoOptions { LossType = DpoLossType.Robust, LabelSmoothing = 0.5f })).Message);
        Assert.Contains("sigmoid, hinge, ipo, robust, cdpo", Assert.Throws<ArgumentException>(() => Dpo.ParseLossType("exo_pair")).Message);
        Assert.Contains("at least one token", Assert.Throws<ArgumentException>(() => Dpo.Loss(x, x, x, x, [0], [1])).Message);
    }

    [Fact]
    public void Loss_type_names_are_trls_lower_case_spelling()
    {
        foreach (var type in Enum.GetValues<DpoLossType>())
        {
            string name = Dpo.LossTypeName(type);
            Assert.Equal(name.ToLowerInvariant(), name);
            Assert.Equal(type, Dpo.ParseLossType(name));
            Assert.Equal(name, AlignSharp.Training.Config.ConfigBinder.Values(new DpoOptions { LossType = type }).Single(kv => kv.Key == "loss_type").Value);
        }
        Assert.Equal(["sigmoid", "hinge", "ipo", "robust", "cdpo"], Enum.GetValues<DpoLossType>().Select(Dpo.LossTypeName));
    }
}
