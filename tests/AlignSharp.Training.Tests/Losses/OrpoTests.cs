using AlignSharp.Tensors;
using AlignSharp.Training.Data;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Training.Tests.Losses;

public class OrpoTests
{
    public static TheoryData<string> Cases => LossFixtures.Names("orpo");
    public static TheoryData<string> OddsRatioCases => LossFixtures.Names("orpo_odds_ratio");

    /// <summary>The fixture's pairs collated as the trainer collates them, and its logits as a trainable [2B, T, V] leaf.</summary>
    private static (PreferenceBatch Batch, Tensor Logits) Inputs(System.Text.Json.JsonElement inputs)
    {
        var pairs = inputs.GetProperty("pairs").EnumerateArray()
            .Select(p => new PreferenceExample(p.GetProperty("prompt").Ints(), p.GetProperty("chosen").Ints(), p.GetProperty("rejected").Ints())).ToList();
        var batch = Collator.Preference(pairs, inputs.GetProperty("pad_id").GetInt32());
        int rows = inputs.GetProperty("rows").GetInt32(), length = inputs.GetProperty("length").GetInt32(), vocab = inputs.GetProperty("vocab").GetInt32();
        Assert.Equal((rows, length), (batch.Sequences.B, batch.Sequences.T));
        Assert.Equal(inputs.GetProperty("input_ids").Ints(), batch.Sequences.InputIds);
        var logits = Tensor.Parameter(Tensor.FromArray(inputs.GetProperty("logits").Floats(), rows, length, vocab));
        return (batch, logits);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_torch_from_logits(string name)
    {
        // Every term from the logits and the token masks, the NLL included: TRL's SFT term covers the chosen rows'
        // prompt and completion tokens (a completion-only NLL fails here).
        var fixture = LossFixtures.Case("orpo", name);
        var (batch, logits) = Inputs(fixture.GetProperty("inputs"));

        var result = Orpo.Loss(logits, batch, new OrpoOptions { Beta = (float)fixture.GetProperty("options").GetProperty("beta").GetDouble() });
        result.Loss.Backward();

        LossFixtures.MatchesLossAndMetrics(fixture, result);
        LossFixtures.Close(fixture.GetProperty("grads").GetProperty("logits").Floats(), logits.Grad!.Span, $"{name}: d loss / d logits", abs: 1e-6);
    }

    [Theory]
    [MemberData(nameof(OddsRatioCases))]
    public void Odds_ratio_term_matches_torch(string name)
    {
        var fixture = LossFixtures.Case("orpo_odds_ratio", name);
        var inputs = fixture.GetProperty("inputs");
        var chosen = LossFixtures.Policy(inputs.GetProperty("chosen").Floats());
        var rejected = LossFixtures.Policy(inputs.GetProperty("rejected").Floats());

        var result = Orpo.OddsRatioLoss(chosen, rejected, (float)fixture.GetProperty("options").GetProperty("beta").GetDouble());
        result.Loss.Backward();

        LossFixtures.MatchesLossAndMetrics(fixture, result);
        LossFixtures.MatchesGradient(fixture, chosen, "chosen");
        LossFixtures.MatchesGradient(fixture, rejected, "rejected");
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
        var result = Orpo.OddsRatioLoss(chosen, rejected, 0.1f);
        result.Loss.Backward();
        Assert.True(float.IsFinite(result.Loss.Item()));
        Assert.All(chosen.Grad!.ToArray().Concat(rejected.Grad!.ToArray()), g => Assert.True(float.IsFinite(g)));
    }

    [Fact]
    public void Gradient_matches_finite_differences()
    {
        var fixture = LossFixtures.Case("orpo", "beta0.25_b4");
        var (batch, logits) = Inputs(fixture.GetProperty("inputs"));
        var options = new OrpoOptions { Beta = 0.25f };
        LossFixtures.MatchesFiniteDifferences(() => Orpo.Loss(logits, batch, options).Loss, logits, step: 1e-2f);
    }
}
