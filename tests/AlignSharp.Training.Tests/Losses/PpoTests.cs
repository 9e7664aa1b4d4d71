using System.Text.Json;
using AlignSharp.Tensors;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Training.Tests.Losses;

public class PpoTests
{
    public static TheoryData<string> TokenRewardCases => LossFixtures.Names("ppo_token_rewards");
    public static TheoryData<string> WhitenCases => LossFixtures.Names("ppo_whiten");
    public static TheoryData<string> GaeCases => LossFixtures.Names("ppo_gae");
    public static TheoryData<string> TargetCases => LossFixtures.Names("ppo_targets");
    public static TheoryData<string> LossCases => LossFixtures.Names("ppo_loss");

    private static KlEstimator Estimator(JsonElement f) => Enum.Parse<KlEstimator>(f.GetProperty("kl_estimator").GetString()!, ignoreCase: true);

    [Theory]
    [MemberData(nameof(TokenRewardCases))]
    public void Token_rewards_match_torch(string name)
    {
        var f = LossFixtures.Case("ppo_token_rewards", name);
        int b = f.GetProperty("b").GetInt32(), t = f.GetProperty("t").GetInt32();
        var scores = Ppo.PenalizeMissingEos(f.GetProperty("scores").Floats(), f.GetProperty("contains_eos").Bools(), f.GetProperty("missing_eos_penalty").OptionalFloat());
        LossFixtures.Close(f.GetProperty("penalized_scores").Floats(), scores, $"{name}: scores");
        var (rewards, kl) = Ppo.TokenRewards(scores, f.GetProperty("logps").Floats(), f.GetProperty("ref_logps").Floats(), f.GetProperty("mask").Floats(),
            b, t, (float)f.GetProperty("kl_coef").GetDouble(), Estimator(f));
        LossFixtures.Close(f.GetProperty("rewards").Floats(), rewards, $"{name}: rewards", abs: 1e-6);
        LossFixtures.Close(f.GetProperty("kl").Floats(), kl, $"{name}: kl", abs: 1e-6);
    }

    [Theory]
    [MemberData(nameof(WhitenCases))]
    public void Whiten_matches_torch(string name)
    {
        var f = LossFixtures.Case("ppo_whiten", name);
        var whitened = Ppo.Whiten(f.GetProperty("values").Floats(), f.GetProperty("mask").Floats(), f.GetProperty("shift_mean").GetBoolean());
        LossFixtures.Close(f.GetProperty("whitened").Floats(), whitened, $"{name}: whitened", abs: 1e-6);
    }

    [Theory]
    [MemberData(nameof(GaeCases))]
    public void Gae_matches_torch(string name)
    {
        var f = LossFixtures.Case("ppo_gae", name);
        var (advantages, returns) = Ppo.Gae(f.GetProperty("rewards").Floats(), f.GetProperty("values").Floats(), f.GetProperty("b").GetInt32(), f.GetProperty("t").GetInt32(),
            (float)f.GetProperty("gamma").GetDouble(), (float)f.GetProperty("lam").GetDouble());
        LossFixtures.Close(f.GetProperty("advantages").Floats(), advantages, $"{name}: advantages", abs: 1e-6);
        LossFixtures.Close(f.GetProperty("returns").Floats(), returns, $"{name}: returns", abs: 1e-6);
    }

    [Theory]
    [MemberData(nameof(TargetCases))]
    public void Rollout_targets_match_torch(string name)
    {
        var f = LossFixtures.Case("ppo_targets", name);
        int b = f.GetProperty("b").GetInt32(), t = f.GetProperty("t").GetInt32();
        var options = new PpoOptions
        {
            KlEstimator = Estimator(f),
            MissingEosPenalty = f.GetProperty("missing_eos_penalty").OptionalFloat(),
            WhitenRewards = f.GetProperty("whiten_rewards").GetBoolean(),
            Gamma = (float)f.GetProperty("gamma").GetDouble(),
            Lam = (float)f.GetProperty("lam").GetDouble(),
        };
        var targets = Ppo.Targets(f.GetProperty("scores").Floats(), f.GetProperty("contains_eos").Bools(), f.GetProperty("logps").Floats(), f.GetProperty("ref_logps").Floats(),
            f.GetProperty("values").Floats(), f.GetProperty("mask").Floats(), b, t, options, (float)f.GetProperty("kl_coef").GetDouble());
        var e = f.GetProperty("expected");
        LossFixtures.Close(e.GetProperty("rewards").Floats(), targets.Rewards, $"{name}: rewards", abs: 1e-6);
        LossFixtures.Close(e.GetProperty("kl").Floats(), targets.Kl, $"{name}: kl", abs: 1e-6);
        LossFixtures.Close(e.GetProperty("scores").Floats(), targets.Scores, $"{name}: scores");
        LossFixtures.Close(e.GetProperty("values").Floats(), targets.Values, $"{name}: values");
        LossFixtures.Close(e.GetProperty("advantages").Floats(), targets.Advantages, $"{name}: advantages", rel: 2e-5, abs: 2e-6);
        LossFixtures.Close(e.GetProperty("returns").Floats(), targets.Returns, $"{name}: returns", abs: 2e-6);
    }

    private static (Tensor Logps, Tensor Values) Inputs(JsonElement f)
    {
        int b = f.GetProperty("b").GetInt32(), t = f.GetProperty("t").GetInt32();
        return (Tensor.Parameter(Tensor.FromArray(f.GetProperty("logps").Floats(), b, t)), Tensor.Parameter(Tensor.FromArray(f.GetProperty("values").Floats(), b, t)));
    }

    private static LossResult LossOf(JsonElement f, Tensor logps, Tensor values)
    {
        var options = new PpoOptions
        {
            Cliprange = (float)f.GetProperty("cliprange").GetDouble(),
            CliprangeValue = (float)f.GetProperty("cliprange_value").GetDouble(),
            VfCoef = (float)f.GetProperty("vf_coef").GetDouble(),
        };
        var entropy = f.GetProperty("entropy").ValueKind == JsonValueKind.Null ? default : f.GetProperty("entropy").Floats();
        return Ppo.Loss(logps, f.GetProperty("old_logps").Floats(), f.GetProperty("advantages").Floats(), values, f.GetProperty("old_values").Floats(),
            f.GetProperty("returns").Floats(), f.GetProperty("mask").Floats(), options, entropy);
    }

    [Theory]
    [MemberData(nameof(LossCases))]
    public void Loss_matches_torch(string name)
    {
        var f = LossFixtures.Case("ppo_loss", name);
        var (logps, values) = Inputs(f);
        var result = LossOf(f, logps, values);
        result.Loss.Backward();
        LossFixtures.MatchesLossAndMetrics(f, result);
        LossFixtures.MatchesGradient(f, logps, "logps");
        LossFixtures.MatchesGradient(f, values, "values");
    }

    [Fact]
    public void Fixtures_exercise_both_clips()
    {
        var policyClipped = LossFixtures.Case("ppo_loss", "policy_clipping").GetProperty("metrics").GetProperty("policy/clipfrac_avg").GetDouble();
        var valueClipped = LossFixtures.Case("ppo_loss", "value_clipping").GetProperty("metrics").GetProperty("val/clipfrac_avg").GetDouble();
        Assert.InRange(policyClipped, 0.05, 0.95);
        Assert.InRange(valueClipped, 0.01, 0.95);
    }

    [Fact]
    public void Gradient_matches_finite_differences()
    {
        var f = LossFixtures.Case("ppo_loss", "both_clipped_entropy");
        var (logps, values) = Inputs(f);
        LossFixtures.MatchesFiniteDifferences(() => LossOf(f, logps, values).Loss, logps, step: 1e-3f);
        LossFixtures.MatchesFiniteDifferences(() => LossOf(f, logps, values).Loss, values, step: 1e-3f);
    }

    [Fact]
    public void Score_lands_one_past_the_completion_or_on_its_last_token()
    {
        // TRL: actual_end = sequence_lengths + 1 when it fits, else sequence_lengths (the last token).
        Assert.Equal(3, Ppo.ScoreIndex(3, 6));
        Assert.Equal(5, Ppo.ScoreIndex(6, 6));
        Assert.Equal(0, Ppo.ScoreIndex(0, 4));
        Assert.Equal([1f, 1f, 1f, 0f, 1f, 1f, 1f, 1f], Ppo.ValueMask([1f, 1f, 0f, 0f, 1f, 1f, 1f, 1f], 2, 4));
    }

    [Fact]
    public void Refuses_a_mask_that_is_not_a_prefix()
    {
        var e = Assert.Throws<ArgumentException>(() => Ppo.Lengths([1f, 0f, 1f], 1, 3));
        Assert.Contains("prefix", e.Message);
    }

    [Fact]
    public void Adaptive_controller_follows_Ziegler()
    {
        var kl = new AdaptiveKlController(0.05f, target: 6f, horizon: 10000f);
        kl.Update(12.0, 64);                           // error clipped to +0.2
        Assert.Equal(0.05 * (1 + 0.2 * 64 / 10000.0), kl.Value, 1e-8);
        kl.Update(5.4, 100);                           // error −0.1
        Assert.Equal(0.05 * (1 + 0.2 * 64 / 10000.0) * (1 - 0.1 * 100 / 10000.0), kl.Value, 1e-8);
        kl.Value = 0.3f;                                // checkpoints restore it
        kl.Update(6.0, 10);
        Assert.Equal(0.3f, kl.Value);
    }

    [Fact]
    public void Defaults_are_TRLs()
    {
        var o = new PpoOptions();
        Assert.Equal((4, 1, false, 0.05f, KlEstimator.K1), (o.NumPpoEpochs, o.NumMiniBatches, o.WhitenRewards, o.KlCoef, o.KlEstimator));
        Assert.Equal((0.2f, 0.1f, 0.2f, 1f, 0.95f), (o.Cliprange, o.VfCoef, o.CliprangeValue, o.Gamma, o.Lam));
        Assert.Equal((53, 0.7f, (float?)null), (o.MaxCompletionLength, o.Temperature, o.MissingEosPenalty));
        Assert.Null(Ppo.OptionsProblem(o));
        Assert.Contains("lam", Ppo.OptionsProblem(o with { Lam = 1.5f }));
    }
}
