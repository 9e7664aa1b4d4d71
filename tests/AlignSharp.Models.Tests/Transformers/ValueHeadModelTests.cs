using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;

namespace AlignSharp.Models.Tests.Transformers;

/// <summary>
/// Where a reward model reads its score: transformers' *ForSequenceClassification (GenericForSequenceClassification)
/// pools the logits at argmax_t(t · [input_ids[t] ≠ pad_token_id]), the rightmost token that is not the pad id, for
/// left and right padding alike; with no pad id it reads the last position.
/// </summary>
public class ValueHeadModelTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-vhead-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    public static TheoryData<int[], int?, int> Rows => new()
    {
        { [5, 6, 7, 0, 0], 0, 2 },        // right padding, pad distinct from the text
        { [5, 6, 9, 9, 9], 9, 1 },        // pad == eos: a completion ending in eos is scored at the token before it
        { [0, 0, 5, 6, 7], 0, 4 },        // left padding
        { [5, 9, 6, 7, 9, 9], 9, 3 },     // pad id inside the text (ChatML's <|im_end|> as pad): the rightmost other token
        { [0, 0, 0], 0, 0 },              // nothing but padding: argmax of zeros is 0
        { [5, 6, 7], null, 2 },           // no pad id: the last position
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Score_index_is_the_rightmost_token_that_is_not_the_pad_id(int[] row, int? padId, int expected) =>
        Assert.Equal(expected, ValueHeadModel.ScoreIndex(row, padId, row.Length));

    [Fact]
    public void Sequence_scores_read_the_values_where_transformers_would_with_pad_equal_to_eos()
    {
        const int eos = 9;
        using var body = TransformerModel.Create(ModelPresets.Get("tiny", Architecture.Llama) with { PadTokenId = eos }, seed: 3);
        using var rm = ValueHeadModel.Create(body, seed: 2);
        Assert.Equal(eos, rm.PadTokenId);
        using var scope = new TensorScope();
        int[] ids = [5, 6, 7, eos, eos, 4, 8, eos, eos, eos];                      // two rows of 5; row 1 padded with eos
        var mask = Tensor.FromArray([1f, 1f, 1f, 1f, 0f, 1f, 1f, 1f, 0f, 0f], 2, 5);  // each row's own eos is attended
        var values = rm.Values(ids, 2, 5, mask).ToArray();
        var scores = rm.SequenceScores(ids, 2, 5, mask).ToArray();
        Assert.Equal(values[2], scores[0]);      // the token before the eos, not the eos (position 3)
        Assert.Equal(values[5 + 1], scores[1]);
    }

    [Fact]
    public void Without_a_pad_id_the_score_is_read_at_the_last_attended_token()
    {
        using var body = TransformerModel.Create(ModelPresets.Get("tiny", Architecture.Llama) with { PadTokenId = null }, seed: 3);
        using var rm = ValueHeadModel.Create(body, seed: 2);
        using var scope = new TensorScope();
        int[] ids = [5, 6, 7, 1, 2, 0];
        var mask = Tensor.FromArray([1f, 1f, 1f, 1f, 1f, 0f], 2, 3);
        var values = rm.Values(ids, 2, 3, mask).ToArray();
        Assert.Equal([values[2], values[4]], rm.SequenceScores(ids, 2, 3, mask).ToArray());
    }

    [Fact]
    public void The_pad_id_it_scores_with_is_saved_as_pad_token_id()
    {
        using var body = TransformerModel.Create(ModelPresets.Get("tiny", Architecture.Llama) with { PadTokenId = null }, seed: 3);
        using var rm = ValueHeadModel.Create(body, seed: 2);
        rm.PadTokenId = 7;
        rm.Save(_dir);
        Assert.Contains("\"pad_token_id\": 7", File.ReadAllText(Path.Combine(_dir, "config.json")));
        using var loaded = ValueHeadModel.Load(_dir);
        Assert.Equal(7, loaded.PadTokenId);
    }
}
