using AlignSharp.Tensors;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Training.Tests.Losses;

public class OrpoTests
{
    public static TheoryData<string> Cases => LossFixtures.Names("orpo");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_torch(string name)
    {
        var fixture = LossFixtures.Case("orpo", name);
        var inputs = fixture.GetProperty("inputs");
        var chosen = LossFixtures.Policy(inputs.GetProperty("chosen").Floats());
        var rejected = LossFixtures.Policy(inputs.GetProperty("rejected").Floats());
        var nll = Tensor.Parameter(Tensor.Scalar((float)inputs.GetProperty("nll").GetDouble()));

        var result = Orpo.Loss(chosen, rejected, nll, new OrpoOptions { Beta = (float)fixture.GetProperty("options").GetProperty("beta").GetDouble() });
        result.Loss.Backward();

        LossFixtures.MatchesLossAndMetrics(fixture, result);
        LossFixtures.MatchesGradient(fixture, chosen, "chosen");
        LossFixtures.MatchesGradient(fixture, rejected, "rejected");
        LossFixtures.Close(fixture.GetProperty("grads").GetProperty("nll").GetDouble(), nll.Grad!.Item(), "d loss / d nll");
    }

    [Fact]
    public void Log_one_minus_exp_keeps_its_precision_near_zero()
    {
        // Both sides of the −ln 2 branch point, down to the clamp; double's eˣ − 1 is exact enough here (|x| ≥ 1e-7).
        float[] x = [-1e-7f, -1e-6f, -3e-5f, -1e-3f, -0.3f, -0.6931f, -0.6932f, -2f, -20f, -90f];
        var input = LossFixtures.Policy(x);
        var y = Orpo.Log1MinusExp(input);
        Ops.Sum(y).Backward();
        for (int i = 0; i < x.Length; i++)
        {
            double v = x[i], expm1 = Math.Exp(v) - 1;
            LossFixtures.Close(Math.Log(-expm1), y.Span[i], $"log(1 − e^{v})", rel: 1e-6);
            LossFixtures.Close(Math.Exp(v) / expm1, input.Grad!.Span[i], $"d/dx log(1 − e^{v})", rel: 1e-6, abs: 1e-12);
        }
    }

    [Fact]
    public void Average_log_prob_of_exactly_zero_stays_finite()
    {
        var chosen = LossFixtures.Policy([0f, -1f]);
        var rejected = LossFixtures.Policy([-0.5f, 0f]);
        var result = Orpo.Loss(chosen, rejected, Tensor.Parameter(Tensor.Scalar(0.5f)));
        result.Loss.Backward();
        Assert.True(float.IsFinite(result.Loss.Item()));
        Assert.All(chosen.Grad!.ToArray().Concat(rejected.Grad!.ToArray()), g => Assert.True(float.IsFinite(g)));
    }

    [Fact]
    public void Gradient_matches_finite_differences()
    {
        var inputs = LossFixtures.Case("orpo", "beta0.25_b7").GetProperty("inputs");
        var chosen = LossFixtures.Policy(inputs.GetProperty("chosen").Floats());
        var rejected = LossFixtures.Policy(inputs.GetProperty("rejected").Floats());
        var nll = Tensor.Scalar(2f);
        var options = new OrpoOptions { Beta = 0.25f };
        LossFixtures.MatchesFiniteDifferences(() => Orpo.Loss(chosen, rejected, nll, options).Loss, chosen, step: 1e-3f);
        LossFixtures.MatchesFiniteDifferences(() => Orpo.Loss(chosen, rejected, nll, options).Loss, rejected, step: 1e-3f);
    }
}
