using AlignSharp.Tensors;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Training.Tests.Losses;

public class RewardModelTests
{
    public static TheoryData<string> Cases => LossFixtures.Names("reward_model");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_torch(string name)
    {
        var fixture = LossFixtures.Case("reward_model", name);
        var inputs = fixture.GetProperty("inputs");
        var chosen = LossFixtures.Policy(inputs.GetProperty("chosen").Floats());
        var rejected = LossFixtures.Policy(inputs.GetProperty("rejected").Floats());
        var margins = inputs.GetProperty("margins");
        var options = new RewardModelOptions { CenterRewardsCoefficient = fixture.GetProperty("options").GetProperty("center_rewards_coefficient").OptionalFloat() };

        var result = RewardModel.Loss(chosen, rejected, options, margins.ValueKind == System.Text.Json.JsonValueKind.Null ? null : margins.Floats());
        result.Loss.Backward();

        LossFixtures.MatchesLossAndMetrics(fixture, result);
        LossFixtures.MatchesGradient(fixture, chosen, "chosen");
        LossFixtures.MatchesGradient(fixture, rejected, "rejected");
    }

    [Fact]
    public void Rejects_a_margin_count_that_differs_from_the_batch()
    {
        var scores = Tensor.FromArray([1f, 2f], 2);
        var error = Assert.Throws<ArgumentException>(() => RewardModel.Loss(scores, scores, margins: [0.5f]));
        Assert.Contains("margins has 1 entries for a batch of 2", error.Message);
    }

    [Fact]
    public void Rejects_column_scores_with_the_fix()
    {
        var scores = Tensor.FromArray([1f, 2f], 2, 1);
        var error = Assert.Throws<ArgumentException>(() => RewardModel.Loss(scores, scores));
        Assert.Contains("Reshape(B)", error.Message);
    }
}
