using AlignSharp.Feedback;
using AlignSharp.Models.Generation;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Online;

namespace AlignSharp.Training.Tests.Online;

public sealed class CompletionLogProbsTests
{
    static readonly CompletionRow[] Rows =
    [
        new([5, 9, 2, 7, 1, 3], [40, 41, 42]),
        new([8], [50, 51, 52, 53, 54]),
        new([4, 4, 6], [60]),
        new([11, 12], []),
    ];

    /// <summary>The plain way: logits [B, T, V] of every position of prompt ++ completion, then log_softmax(logits / T) at the completion tokens.</summary>
    static (float[] LogProbs, float[] Logits, int T) Naive(TransformerModel model, float temperature)
    {
        int T = Rows.Max(r => r.PromptIds.Length + r.CompletionIds.Length), B = Rows.Length, V = model.Config.VocabSize;
        var ids = new int[B * T]; var mask = new float[B * T];
        for (int b = 0; b < B; b++)
        {
            int[] row = [.. Rows[b].PromptIds, .. Rows[b].CompletionIds];
            row.CopyTo(ids, b * T); mask.AsSpan(b * T, row.Length).Fill(1f);
        }
        using var _ = Autograd.NoGrad();
        var logits = Ops.Scale(model.Forward(ids, B, T, Tensor.FromArray(mask, B, T)), 1f / temperature).ToArray();
        int Tc = Rows.Max(r => r.CompletionIds.Length);
        var logProbs = new float[B * Tc];
        var predicting = new float[B * Tc * V];
        for (int b = 0; b < B; b++)
            for (int j = 0; j < Rows[b].CompletionIds.Length; j++)
            {
                var x = logits.AsSpan((b * T + Rows[b].PromptIds.Length - 1 + j) * V, V);
                x.CopyTo(predicting.AsSpan((b * Tc + j) * V));
                double max = x.ToArray().Max(), sum = x.ToArray().Sum(z => Math.Exp(z - max));
                logProbs[b * Tc + j] = (float)(x[Rows[b].CompletionIds[j]] - max - Math.Log(sum));
            }
        return (logProbs, predicting, Tc);
    }

    [Theory]
    [InlineData(Architecture.Llama, 1f)]
    [InlineData(Architecture.Gpt2, 0.7f)]
    public void Log_probs_entropy_and_hidden_match_a_plain_forward(Architecture architecture, float temperature)
    {
        var (model, _) = LogProbEqualityTests.Tiny(architecture, lora: false);
        using var __ = model;
        var (expected, logits, Tc) = Naive(model, temperature);
        CompletionForward forward;
        using (Autograd.NoGrad()) forward = CompletionLogProbs.Compute(model, Rows, temperature, entropy: true, keepHidden: true);
        Assert.Equal((Rows.Length, Tc), (forward.B, forward.T));
        Assert.Equal([Rows.Length, Tc], forward.LogProbs.Shape.ToArray());
        var got = forward.LogProbs.ToArray();
        int V = model.Config.VocabSize, C = model.Config.HiddenSize;
        var hidden = forward.Hidden!.ToArray();
        Assert.Equal([Rows.Length, Tc, C], forward.Hidden.Shape.ToArray());
        for (int b = 0; b < Rows.Length; b++)
            for (int j = 0; j < Tc; j++)
            {
                int i = b * Tc + j;
                bool real = j < Rows[b].CompletionIds.Length;
                Assert.Equal(real ? 1f : 0f, forward.Mask[i]);
                if (!real)
                {
                    Assert.Equal(0f, got[i]); Assert.Equal(0f, forward.Entropy![i]);
                    Assert.All(hidden.AsSpan(i * C, C).ToArray(), h => Assert.Equal(0f, h));
                    continue;
                }
                Assert.Equal(expected[i], got[i], 1e-4);
                var x = logits.AsSpan(i * V, V).ToArray();
                double max = x.Max(), z = x.Sum(l => Math.Exp(l - max));
                double entropy = -x.Sum(l => Math.Exp(l - max) / z * (l - max - Math.Log(z)));
                Assert.Equal(entropy, forward.Entropy![i], 1e-4);
                Assert.Contains(hidden.AsSpan(i * C, C).ToArray(), h => h != 0f);
            }
    }

    [Fact]
    public void Gradients_match_the_plain_forward_and_reach_the_hidden_states()
    {
        var (model, _) = LogProbEqualityTests.Tiny(Architecture.Llama, lora: false);
        using var __ = model;
        model.SetTrainable(true);
        var head = model.Parameters["lm_head.weight"];
        var norm = model.Parameters["model.norm.weight"];

        // d Σ log p / d lm_head through the gather → LM head → log-softmax → scatter, against the same through full logits.
        var forward = CompletionLogProbs.Compute(model, Rows, 0.7f);
        Ops.Sum(forward.LogProbs).Backward();
        var gathered = head.Grad!.ToArray();
        head.ZeroGrad(); norm.ZeroGrad();

        int T = Rows.Max(r => r.PromptIds.Length + r.CompletionIds.Length), B = Rows.Length;
        var ids = new int[B * T]; var mask = new float[B * T]; var labels = Enumerable.Repeat(Ops.IgnoreIndex, B * T).ToArray();
        for (int b = 0; b < B; b++)
        {
            int[] row = [.. Rows[b].PromptIds, .. Rows[b].CompletionIds];
            row.CopyTo(ids, b * T); mask.AsSpan(b * T, row.Length).Fill(1f);
            for (int j = 0; j < Rows[b].CompletionIds.Length; j++) labels[b * T + Rows[b].PromptIds.Length - 1 + j] = Rows[b].CompletionIds[j];
        }
        var logits = Ops.Scale(model.Forward(ids, B, T, Tensor.FromArray(mask, B, T)), 1f / 0.7f);
        Ops.Sum(Ops.TokenLogProbs(logits, labels)).Backward();
        var plain = head.Grad!.ToArray();
        Assert.Contains(plain, g => Math.Abs(g) > 1e-3);
        for (int i = 0; i < plain.Length; i++) Assert.Equal(plain[i], gathered[i], 1e-4);

        // The value head's input carries gradient back into the model.
        norm.ZeroGrad();
        Ops.Sum(CompletionLogProbs.Compute(model, Rows, keepHidden: true).Hidden!).Backward();
        Assert.Contains(norm.Grad!.ToArray(), g => g != 0f);
    }

    [Fact]
    public void Max_deviation_is_the_largest_gap_over_real_tokens_and_checks_the_rollouts_fit()
    {
        var prompt = new PromptRecord("p", "hi", "", new Dictionary<string, string>());
        Rollout R(int[] ids, float[] lps) => new(prompt, [1, 2], ids, lps, "", FinishReason.Stop);
        var forward = new CompletionForward(Tensor.FromArray([-1f, -2f, 0f, -0.5f, -0.25f, -4f], 2, 3), [1, 1, 0, 1, 1, 1], 2, 3);
        Assert.Equal(0.5f, CompletionLogProbs.MaxDeviation(forward, [R([7, 8], [-1f, -2.5f]), R([7, 8, 9], [-0.5f, -0.25f, -4.125f])]));
        Assert.Throws<ArgumentException>(() => CompletionLogProbs.MaxDeviation(forward, [R([7, 8], [-1f, -2f])]));
        Assert.Throws<ArgumentException>(() => CompletionLogProbs.MaxDeviation(forward, [R([7], [-1f]), R([7, 8, 9], [0f, 0f, 0f])]));
    }

    [Fact]
    public void Bad_arguments_are_named()
    {
        var (model, _) = LogProbEqualityTests.Tiny(Architecture.Gpt2, lora: false);
        using var __ = model;
        Assert.Contains("temperature", Assert.Throws<ArgumentException>(() => CompletionLogProbs.Compute(model, Rows, 0f)).Message);
        Assert.Contains("row 1 has an empty prompt", Assert.Throws<ArgumentException>(() => CompletionLogProbs.Compute(model, [Rows[0], new CompletionRow([], [3])])).Message);
        Assert.Throws<ArgumentException>(() => CompletionLogProbs.Compute(model, Array.Empty<CompletionRow>()));
    }

    [Fact]
    public void The_temperature_one_sampler_keeps_its_batches_seeds_and_log_probs()
    {
        var (model, encoder) = LogProbEqualityTests.Tiny(Architecture.Llama, lora: false);
        using var __ = model;
        var prompts = LogProbEqualityTests.Prompts;
        var rollouts = new PolicySampler(model, encoder).Sample(prompts, 2, 0.8f, 5, 6);
        // Rows prompt-major, one batch of 64: seed 5, temperature-1 log-probs, default kernels.
        var generated = new Generator(model, encoder.Tokenizer).Generate(
            prompts.SelectMany(p => Enumerable.Repeat(encoder.Prompt(p.Messages, p.Id), 2)).ToList(),
            new GenerationOptions { MaxNewTokens = 6, Temperature = 0.8f, StopTokenIds = [.. model.Config.EosTokenIds, encoder.EosId], Seed = 5 });
        for (int i = 0; i < prompts.Length; i++)
            for (int j = 0; j < 2; j++)
            {
                Assert.Equal(generated[2 * i + j].Tokens, rollouts[i][j].CompletionIds);
                Assert.Equal(generated[2 * i + j].LogProbs, rollouts[i][j].LogProbs);
                Assert.Equal(5L, rollouts[i][j].Seed);
            }
    }
}
