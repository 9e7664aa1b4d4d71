using AlignSharp.Models.Generation;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Tensors.Kernels;

namespace AlignSharp.Models.Tests.Generation;

/// <summary>GenerationOptions.LogProbsAtTemperature: the recorded log-probs are those of the sampling distribution.</summary>
public class LogProbsAtTemperatureTests
{
    [Theory]
    [InlineData(Architecture.Llama, 0.7f)]
    [InlineData(Architecture.Gpt2, 1.6f)]
    public void Log_probs_are_log_softmax_of_logits_over_temperature_only_with_the_flag(Architecture arch, float temperature)
    {
        using var model = TransformerModel.Create(ModelPresets.Get("tiny", arch) with { EosTokenIds = [] }, seed: 4);
        foreach (var p in model.Parameters.Values.Where(p => p.Rank == 2)) Ops.Scale(p, 10f).Span.CopyTo(p.Span); // peaked: T matters
        int[] prompt = [5, 9, 2, 7];
        var options = new GenerationOptions { MaxNewTokens = 8, Temperature = temperature, TopP = 0.8f, Seed = 11 };
        GenerationResult plain, tempered;
        float[] logits;
        using (Sgemm.BlockedOrder())
        {
            plain = new Generator(model).Generate([prompt], options)[0];
            tempered = new Generator(model).Generate([prompt], options with { LogProbsAtTemperature = true })[0];
            int[] row = [.. prompt, .. tempered.Tokens[..^1]];
            using (Autograd.NoGrad()) logits = model.Forward(row, 1, row.Length).ToArray();
        }
        Assert.Equal(plain.Tokens, tempered.Tokens); // the flag changes what is recorded, never what is sampled
        int v = model.Config.VocabSize;
        for (int t = 0; t < tempered.Tokens.Length; t++)
        {
            // What a trainer computes: log_softmax(logits · (1/T)) at the sampled token.
            var x = Tensor.FromArray(logits.AsSpan((prompt.Length - 1 + t) * v, v), 1, v);
            int[] token = [tempered.Tokens[t]];
            Assert.Equal(Ops.TokenLogProbs(Ops.Scale(x, 1f / temperature), token).Span[0], tempered.LogProbs[t]);
            Assert.Equal(Ops.TokenLogProbs(x, token).Span[0], plain.LogProbs[t]);
        }
        Assert.NotEqual(plain.LogProbs, tempered.LogProbs);
    }

    [Fact]
    public void Greedy_decoding_records_temperature_one_log_probs()
    {
        using var model = TransformerModel.Create(ModelPresets.Get("tiny", Architecture.Llama) with { EosTokenIds = [] }, seed: 4);
        var options = new GenerationOptions { MaxNewTokens = 5, Temperature = 0 };
        var plain = new Generator(model).Generate([[3, 4, 5]], options)[0];
        var flagged = new Generator(model).Generate([[3, 4, 5]], options with { LogProbsAtTemperature = true })[0];
        Assert.Equal(plain.Tokens, flagged.Tokens);
        Assert.Equal(plain.LogProbs, flagged.LogProbs);
    }
}
