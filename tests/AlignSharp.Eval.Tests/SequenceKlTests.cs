using AlignSharp.Feedback;
using AlignSharp.Models.Generation;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;

namespace AlignSharp.Eval.Tests;

public class SequenceKlTests
{
    static readonly PromptRecord Prompt = new("p", "x", "", new Dictionary<string, string>());

    static ModelConfig Config => ModelPresets.Get("tiny", Architecture.Llama) with { VocabSize = 48, EosTokenIds = [] };

    static List<Rollout> Sample(TransformerModel model, int n)
    {
        var prompts = Enumerable.Range(0, n).Select(i => new[] { 1 + i % 7, 2 + i % 5, 3 }).ToList();
        var generated = new Generator(model).Generate(prompts, new GenerationOptions { MaxNewTokens = 6, Temperature = 1f, Seed = 11 });
        return generated.Select((g, i) => new Rollout(Prompt, prompts[i], g.Tokens, g.LogProbs, "", FinishReason.Length)).ToList();
    }

    /// <summary>log π_ref(y|x) summed over y's tokens, from the full-sequence logits with an explicit log-softmax (no shared helper).</summary>
    static double ReferenceLogProb(TransformerModel reference, Rollout r)
    {
        using var noGrad = Autograd.NoGrad();
        using var scope = new TensorScope();
        var ids = r.PromptIds.Concat(r.CompletionIds).ToArray();
        var logits = reference.Forward(ids, 1, ids.Length).ToArray(); // [1, T, V]
        int V = reference.Config.VocabSize;
        double total = 0;
        for (int t = r.PromptIds.Length; t < ids.Length; t++)
        {
            var row = logits.AsSpan((t - 1) * V, V);
            double max = double.NegativeInfinity;
            foreach (var x in row) max = Math.Max(max, x);
            double sum = 0;
            foreach (var x in row) sum += Math.Exp(x - max);
            total += row[ids[t]] - max - Math.Log(sum);
        }
        return total;
    }

    [Fact]
    public void Matches_the_mean_of_sampling_minus_reference_log_probs()
    {
        using var policy = TransformerModel.Create(Config, seed: 1);
        using var reference = TransformerModel.Create(Config, seed: 2);
        var rollouts = Sample(policy, 12);
        double expected = rollouts.Average(r => r.SumLogProb - ReferenceLogProb(reference, r));
        Assert.Equal(expected, SequenceKl.Estimate(rollouts, reference), 3);
    }

    [Fact]
    public void Is_zero_against_the_sampling_policy_itself_and_positive_against_another()
    {
        using var policy = TransformerModel.Create(Config, seed: 1);
        using var other = TransformerModel.Create(Config, seed: 5);
        var rollouts = Sample(policy, 24);
        Assert.Equal(0, SequenceKl.Estimate(rollouts, policy), 3);
        Assert.True(SequenceKl.Estimate(rollouts, other) > 0);
    }

    [Fact]
    public void Empty_completions_count_as_zero_and_no_samples_is_an_error()
    {
        using var model = TransformerModel.Create(Config, seed: 1);
        var empty = new Rollout(Prompt, [1, 2], [], [], "", FinishReason.Stop);
        Assert.Equal(0, SequenceKl.Estimate([empty], model));
        Assert.Throws<EvalException>(() => SequenceKl.Estimate([], model));
    }
}
