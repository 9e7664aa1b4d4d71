using AlignSharp.Models.Checkpoints;
using AlignSharp.Tensors;

namespace AlignSharp.Models.Transformers;

/// <summary>
/// A transformer body with a scalar head on its final hidden states: reward models (a score per sequence, read
/// where transformers' *ForSequenceClassification reads it, see <see cref="ScoreIndex"/>) and PPO critics (a value
/// per token). Saved in Hugging Face's *ForSequenceClassification layout (the body's weights plus <c>score.weight</c>
/// [1, C], num_labels 1, and <see cref="PadTokenId"/> as pad_token_id), which transformers'
/// AutoModelForSequenceClassification and TRL's reward trainer use.
/// </summary>
public sealed class ValueHeadModel : IDisposable
{
    public TransformerModel Body { get; }
    /// <summary>score.weight [1, C].</summary>
    public Tensor Score { get; }

    public ValueHeadModel(TransformerModel body, Tensor score)
    {
        if (score.Rank != 2 || score.Dim(0) != 1 || score.Dim(1) != body.Config.HiddenSize)
            throw new ModelFormatException($"score.weight has shape [{string.Join(", ", score.Shape.ToArray())}] but the body needs [1, {body.Config.HiddenSize}]");
        Body = body; Score = score;
        PadTokenId = body.Config.PadTokenId;
    }

    /// <summary>
    /// The pad id that decides where a sequence is scored (config.json's pad_token_id; starts as the body's). TRL's
    /// reward trainer sets it to the tokenizer's pad token, or EOS when there is none; <see cref="Save"/> writes it, so
    /// transformers scores a saved model at the same positions.
    /// </summary>
    public int? PadTokenId { get; set; }

    /// <summary>A new head N(0, 0.02) on <paramref name="body"/> (e.g. an SFT model turned into a reward model).</summary>
    public static ValueHeadModel Create(TransformerModel body, ulong seed = 0)
    {
        var score = Tensor.Parameter(1, body.Config.HiddenSize);
        new Rng(seed).FillNormal(score.Span, 0f, 0.02f);
        return new ValueHeadModel(body, score);
    }

    public IEnumerable<Tensor> Parameters => Body.Parameters.Values.Append(Score);

    /// <summary>The weights <see cref="Save"/> writes, by their checkpoint names: the body's without its LM head, and score.weight.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> SavedParameters =>
        Body.Parameters.Where(p => p.Key != "lm_head.weight").Select(p => (p.Key, p.Value)).Append(("score.weight", Score));

    /// <summary>The head's output at every position: [B, T].</summary>
    public Tensor Values(ReadOnlySpan<int> ids, int batch, int length, Tensor? attentionMask = null, int[]? positions = null) =>
        Ops.Linear(Body.Hidden(ids, batch, length, attentionMask, positions), Score).Reshape(batch, length);

    /// <summary>
    /// One score per sequence, read at <see cref="ScoreIndex"/> of each row with <see cref="PadTokenId"/>: [B]. Without
    /// a pad id, at the row's last attended position (the last position without a mask); transformers reads the last
    /// position there and refuses padded batches.
    /// </summary>
    public Tensor SequenceScores(ReadOnlySpan<int> ids, int batch, int length, Tensor? attentionMask = null, int[]? positions = null)
    {
        if (ids.Length != batch * length) throw new ArgumentException($"{ids.Length} ids given for a [{batch}, {length}] batch", nameof(ids));
        var values = Values(ids, batch, length, attentionMask, positions);
        var pick = Tensor.Zeros(batch, length);
        var m = attentionMask?.ToArray();
        for (int b = 0; b < batch; b++)
        {
            int last;
            if (PadTokenId is not null || m is null) last = ScoreIndex(ids.Slice(b * length, length), PadTokenId, length);
            else for (last = length - 1; last > 0 && m[b * length + last] == 0f; last--) { }
            pick.Span[b * length + last] = 1f;
        }
        return Ops.MaskedSum(values, pick);
    }

    /// <summary>
    /// Where transformers' *ForSequenceClassification (GenericForSequenceClassification.forward) pools a row's logits:
    /// argmax_t(t · [ids[t] ≠ pad]), the rightmost token that is not the pad id, so left and right padding both work
    /// and, with pad == EOS, a row ending in EOS is scored at the token before it; 0 for a row of nothing but padding
    /// (argmax of zeros), and the last position (−1) when there is no pad id.
    /// </summary>
    public static int ScoreIndex(ReadOnlySpan<int> row, int? padId, int length)
    {
        if (row.Length != length) throw new ArgumentException($"row has {row.Length} ids, expected {length}", nameof(row));
        if (padId is not { } pad) return length - 1;
        for (int t = length - 1; t > 0; t--) if (row[t] != pad) return t;
        return 0;
    }

    /// <summary>Loads a *ForSequenceClassification folder (num_labels 1).</summary>
    /// <param name="checkFinite">Refuse NaN/Inf weights, naming the tensor (see <see cref="HuggingFaceFolder.Load(string, bool)"/>).</param>
    public static ValueHeadModel Load(string folder, bool checkFinite = true)
    {
        var body = HuggingFaceFolder.Load(folder, out var extra, checkFinite);
        if (!extra.TryGetValue("score.weight", out var score))
        {
            body.Dispose();
            throw new ModelFormatException($"{folder}: no tensor 'score.weight' (a reward/value model folder holds a *ForSequenceClassification checkpoint)");
        }
        if (score.Length != body.Config.HiddenSize)
        {
            body.Dispose();
            throw new ModelFormatException($"{folder}: score.weight has {score.Length} values; a single-label head on hidden size {body.Config.HiddenSize} needs [1, {body.Config.HiddenSize}] (num_labels must be 1)");
        }
        var p = Tensor.Parameter(1, body.Config.HiddenSize);
        score.CopyTo(p.Span);
        return new ValueHeadModel(body, p);
    }

    /// <summary>Saves the body without its LM head plus score.weight, and <see cref="PadTokenId"/> as pad_token_id, as transformers' *ForSequenceClassification.</summary>
    public void Save(string folder, DType dtype = DType.F32)
    {
        HuggingFaceFolder.Save(Body, folder, dtype, SafetensorsCheckpoint.DefaultMaxShardBytes,
            [new TensorToWrite("score.weight", [1, Body.Config.HiddenSize], span => Score.Span.CopyTo(span))], Body.Config with { HasLmHead = false, PadTokenId = PadTokenId });
    }

    public void Dispose()
    {
        Body.Dispose();
        Score.Dispose();
    }
}
