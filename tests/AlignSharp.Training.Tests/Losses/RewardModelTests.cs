using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Data;
using AlignSharp.Training.Tests.Data;
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

    // ---- the dataset's "margin" column and where the trainer reads each score ----------------------------------

    [Fact]
    public void Margin_column_is_read_and_carried_into_the_example()
    {
        var row = (PreferenceRow)RowParser.Parse("""{"prompt": "Hi", "chosen": " there", "rejected": " no", "margin": 1.5}""", "rm.jsonl", 3, DatasetKind.Preference);
        Assert.Equal(1.5f, row.Margin);
        Assert.Equal(1.5f, TestData.Qwen().Preference(row).Margin);
        var implicitPrompt = (PreferenceRow)RowParser.Parse("""{"chosen": "Hi there", "rejected": "Hi no", "margin": -0.25}""", "rm.jsonl", 4, DatasetKind.Preference);
        Assert.Equal(-0.25f, implicitPrompt.Margin);
        Assert.Null(((PreferenceRow)RowParser.Parse("""{"prompt": "Hi", "chosen": " there", "rejected": " no"}""", "rm.jsonl", 5, DatasetKind.Preference)).Margin);
        var error = Assert.Throws<TrainingException>(() => RowParser.Parse("""{"prompt": "Hi", "chosen": " a", "rejected": " b", "margin": "big"}""", "rm.jsonl", 6, DatasetKind.Preference));
        Assert.Equal("rm.jsonl:6: \"margin\" must be a number (got string)", error.Message);
    }

    /// <summary>A tiny reward model over a 12-token vocabulary whose pad id is also its EOS (TRL's default when the tokenizer has no pad token).</summary>
    private static ValueHeadModel TinyRewardModel() =>
        ValueHeadModel.Create(TransformerModel.Create(ModelPresets.Get("tiny", Architecture.Llama) with { VocabSize = 12, PadTokenId = null }, seed: 5), seed: 6);

    [Fact]
    public void Trainer_scores_where_transformers_does_and_subtracts_the_margins()
    {
        const int eos = 11;
        using var model = TinyRewardModel();
        PreferenceExample[] pairs =
        [
            new([1, 2], [3, 4, eos], [5, eos]) { Margin = 0.5f },
            new([6], [7, eos], [8, 9, 10, eos]) { Margin = 2f },
        ];
        using var scope = new TensorScope();
        var result = RewardModelTrainer.BatchLoss(model, pairs, eos, new RewardModelOptions());
        Assert.Equal(eos, model.PadTokenId); // as TRL sets model.config.pad_token_id, so a saved model scores the same in transformers

        // Expected: scores at the token before each completion's EOS (rows: prompt+chosen ×2, prompt+rejected ×2).
        var batch = Collator.Preference(pairs, eos);
        var values = model.Values(batch.Sequences.InputIds, batch.Sequences.B, batch.Sequences.T,
            Tensor.FromArray(batch.Sequences.AttentionMask, batch.Sequences.B, batch.Sequences.T)).ToArray();
        int t = batch.Sequences.T;
        int[] index = [3, 1, 2, 3];  // before EOS at 4, 2, 3, 4
        float[] scores = [.. Enumerable.Range(0, 4).Select(r => values[r * t + index[r]])];
        var expected = RewardModel.Loss(Tensor.FromArray(scores[..2], 2), Tensor.FromArray(scores[2..], 2), margins: [0.5f, 2f]);
        LossFixtures.Close(expected.Loss.Item(), result.Loss.Item(), "loss with margins", rel: 1e-6);
        LossFixtures.Close(expected.Metrics["margin"], result.Metrics["margin"], "margin metric", rel: 1e-6);
    }

    [Fact]
    public void Margins_on_some_rows_only_are_refused()
    {
        using var model = TinyRewardModel();
        PreferenceExample[] pairs = [new([1], [2, 11], [3, 11]) { Margin = 1f }, new([1], [4, 11], [5, 11])];
        var error = Assert.Throws<TrainingException>(() => RewardModelTrainer.BatchLoss(model, pairs, 11, new RewardModelOptions()));
        Assert.Contains("\"margin\" is set on 1 of 2 rows", error.Message);
    }
}
