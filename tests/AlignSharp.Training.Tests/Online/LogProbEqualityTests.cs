using AlignSharp.Feedback;
using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Lora;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Data;
using AlignSharp.Training.Online;
using Xunit.Abstractions;

namespace AlignSharp.Training.Tests.Online;

/// <summary>
/// The rollout/training guarantee of issue 13: the training forward's per-token log-probs of the sampled tokens equal
/// the sampler's log-probs (≤ 1e-5) for full and LoRA models, any thread count, so the first iteration's importance
/// ratio is 1.
/// </summary>
public sealed class LogProbEqualityTests(ITestOutputHelper output)
{
    const float Tolerance = 1e-5f;

    internal static readonly PromptRecord[] Prompts =
    [
        new("short", "Hi", "", new Dictionary<string, string>()),
        new("medium", "What is the capital of France, and why is it there?", "", new Dictionary<string, string>()),
        new("long", "Write three sentences about the sea, the mountains and the long road between them, for a child who has seen neither.", "", new Dictionary<string, string>()),
        new("turns", [new(Microsoft.Extensions.AI.ChatRole.System, "You answer briefly."), new(Microsoft.Extensions.AI.ChatRole.User, "Name a colour.")], "", new Dictionary<string, string>()),
    ];

    [Theory]
    [InlineData(Architecture.Llama, false)]
    [InlineData(Architecture.Llama, true)]
    [InlineData(Architecture.Gpt2, false)]
    [InlineData(Architecture.Gpt2, true)]
    public void TrainingForwardLogProbsEqualSamplingLogProbs(Architecture architecture, bool lora)
    {
        var (model, encoder) = Tiny(architecture, lora);
        using var _ = model;
        foreach (var (temperature, topP) in new[] { (1f, 1f), (0.7f, 0.9f) })
        {
            var options = new SamplingOptions { MaxNewTokens = 20, Temperature = temperature, TopP = topP, BatchSize = 8 };
            Rollout[]? first = null;
            foreach (int threads in new[] { 1, 2, 3 })
            {
                using var pool = new WorkerPool(threads);
                using var scope = WorkerPool.Use(pool);
                var rollouts = new PolicySampler(model, encoder).Sample(Prompts, 3, options, seed: 7).SelectMany(r => r).ToArray();
                Assert.Contains(rollouts, r => r.Finish == FinishReason.Stop && r.CompletionIds.Length < options.MaxNewTokens);
                Assert.Contains(rollouts, r => r.Finish == FinishReason.Length);
                if (first is null) first = rollouts;
                else
                    for (int i = 0; i < rollouts.Length; i++)
                    {
                        Assert.Equal(first[i].CompletionIds, rollouts[i].CompletionIds);
                        Assert.Equal(first[i].LogProbs, rollouts[i].LogProbs);
                    }

                var forward = CompletionLogProbs.Compute(model, rollouts, temperature);
                float deviation = CompletionLogProbs.MaxDeviation(forward, rollouts);
                output.WriteLine($"{architecture} {(lora ? "LoRA" : "full")} T={temperature} top_p={topP} threads={threads}: max |Δ log p| = {deviation:E2} over {forward.Mask.Sum()} tokens");
                Assert.True(deviation <= Tolerance, $"max deviation {deviation} > {Tolerance} ({architecture}, lora {lora}, T {temperature}, {threads} threads)");
            }
        }
    }

    /// <summary>A tiny model with peaked distributions (weights ×15: logits spread over several nats) and ~20 stop ids, so rows end at different steps.</summary>
    internal static (TransformerModel Model, ExampleTokenizer Encoder) Tiny(Architecture architecture, bool lora)
    {
        var tokenizer = Tokenizer.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers", "qwen2"));
        int eos = tokenizer.TokenToId("<|im_end|>")!.Value;
        var config = ModelPresets.Get("tiny", architecture) with { VocabSize = tokenizer.VocabSize, EosTokenIds = [eos, .. Enumerable.Range(100, 20)] };
        var model = TransformerModel.Create(config, seed: 3);
        foreach (var p in model.Parameters.Values.Where(p => p.Rank == 2)) Ops.Scale(p, 15f).Span.CopyTo(p.Span);
        if (lora)
        {
            model.Adapters = LoraAdapters.Create(model, new LoraConfig(Rank: 4, Alpha: 8, TargetModules:
                ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "c_attn", "c_proj", "c_fc", "lm_head"]), seed: 5);
            var rng = new Rng(9);
            foreach (var (_, b) in model.Adapters.Modules.Values) rng.FillNormal(b.Span, 0f, 0.1f);
            model.SetTrainable(false);
        }
        var encoder = new ExampleTokenizer(tokenizer, BuiltInTemplates.Get("chatml"), new ChatTemplateOptions { EosToken = "<|im_end|>" });
        return (model, encoder);
    }
}
