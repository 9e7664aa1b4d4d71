using AlignSharp.Feedback;
using AlignSharp.Models.Generation;
using AlignSharp.Models.Transformers;
using AlignSharp.Training.Data;

namespace AlignSharp.Alignment.Sampling;

/// <summary>
/// Samples a policy held in memory: each prompt's conversation rendered with the chat template (the same prompt tokens
/// the trainers use), k completions per prompt decoded in batches of <see cref="BatchSize"/> with the KV cache.
/// Returns <see cref="Rollout"/>s with the exact sampled tokens and their sampling log-probs. The model is read, never
/// changed (no adapter toggling); the caller owns it.
/// </summary>
public sealed class PolicySampler
{
    /// <summary>Rows decoded together.</summary>
    public const int BatchSize = 64;

    private readonly TransformerModel _model;
    private readonly ExampleTokenizer _encoder;
    private readonly Generator _generator;
    private readonly List<int> _stops;
    private readonly string? _modelName;

    /// <param name="model">The policy.</param>
    /// <param name="encoder">Its tokenizer and chat template.</param>
    /// <param name="modelName">Recorded in each rollout (a folder or model id).</param>
    public PolicySampler(TransformerModel model, ExampleTokenizer encoder, string? modelName = null)
    {
        _model = model;
        _encoder = encoder;
        _generator = new Generator(model, encoder.Tokenizer);
        _stops = model.Config.EosTokenIds.ToList();
        if (encoder.TemplateOptions.EosToken is { } eos && encoder.Tokenizer.TokenToId(eos) is { } eosId) _stops.Add(eosId);
        _modelName = modelName;
    }

    /// <summary>The prompt's conversation rendered for generation, as token ids.</summary>
    public int[] PromptIds(PromptRecord prompt) =>
        _encoder.Prompt(prompt.Messages, prompt.Id);

    /// <summary>
    /// k completions for every prompt (result[i][j] = prompt i's j-th sample). Rows are prompt-major and decoded in
    /// batches of <see cref="BatchSize"/>; batch b uses seed <paramref name="seed"/> + b·<see cref="BatchSize"/>.
    /// </summary>
    public Rollout[][] Sample(IReadOnlyList<PromptRecord> prompts, int k, float temperature, ulong seed, int maxNewTokens)
    {
        var encoded = prompts.Select(PromptIds).ToList();
        var output = prompts.Select(_ => new Rollout[k]).ToArray();
        var rows = Enumerable.Range(0, prompts.Count).SelectMany(i => Enumerable.Range(0, k).Select(j => (i, j))).ToList();
        for (int start = 0; start < rows.Count; start += BatchSize)
        {
            var chunk = rows.Skip(start).Take(BatchSize).ToList();
            ulong batchSeed = seed + (ulong)start;
            var generated = _generator.Generate(chunk.Select(r => encoded[r.i]).ToList(), new GenerationOptions
            {
                MaxNewTokens = maxNewTokens, Temperature = temperature, StopTokenIds = _stops, Seed = batchSeed,
            });
            for (int n = 0; n < chunk.Count; n++)
            {
                var (i, j) = chunk[n];
                var g = generated[n];
                output[i][j] = new Rollout(prompts[i], encoded[i], g.Tokens, g.LogProbs, g.Text.Trim(), Rollout.ParseFinish(g.FinishReason), (long)batchSeed, _modelName);
            }
        }
        return output;
    }
}
