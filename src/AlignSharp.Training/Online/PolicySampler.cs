using AlignSharp.Feedback;
using AlignSharp.Models.Generation;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors.Kernels;
using AlignSharp.Training.Data;

namespace AlignSharp.Training.Online;

/// <summary>How an online trainer samples its rollouts (TRL's GRPOConfig generation keys).</summary>
public sealed record SamplingOptions
{
    /// <summary>Tokens sampled at most per completion (TRL's max_completion_length).</summary>
    public int MaxNewTokens { get; init; } = 256;
    /// <summary>Logits are divided by it before sampling, and the rollouts' log-probs are taken at it (0 = greedy).</summary>
    public float Temperature { get; init; } = 1f;
    /// <summary>Nucleus sampling: the smallest set of tokens whose probability reaches top_p (1 = off).</summary>
    public float TopP { get; init; } = 1f;
    /// <summary>Only the top_k most likely tokens (0 = off).</summary>
    public int TopK { get; init; }
    /// <summary>Rows (prompt × sample) decoded together with one KV cache.</summary>
    public int BatchSize { get; init; } = PolicySampler.DefaultBatchSize;
    /// <summary>TRL's max_prompt_length: a longer rendered prompt keeps its last tokens (TRL truncates on the left); null = no limit.</summary>
    public int? MaxPromptLength { get; init; }
}

/// <summary>
/// Samples a policy held in memory: each prompt's conversation rendered with the chat template (the same prompt tokens
/// the trainers use), k completions per prompt decoded in batches with the KV cache. Returns <see cref="Rollout"/>s
/// with the exact sampled tokens and their sampling log-probs. The model is read, never changed (no adapter toggling);
/// the caller owns it.
/// </summary>
public sealed class PolicySampler
{
    /// <summary>Rows decoded together unless <see cref="SamplingOptions.BatchSize"/> says otherwise.</summary>
    public const int DefaultBatchSize = 64;

    private readonly ExampleTokenizer _encoder;
    private readonly Generator _generator;
    private readonly List<int> _stops;
    private readonly string? _modelName;

    /// <param name="model">The policy.</param>
    /// <param name="encoder">Its tokenizer and chat template.</param>
    /// <param name="modelName">Recorded in each rollout (a folder or model id).</param>
    public PolicySampler(TransformerModel model, ExampleTokenizer encoder, string? modelName = null)
    {
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
    /// k completions for every prompt (result[i][j] = prompt i's j-th sample), with log-probs at temperature 1. Rows are
    /// prompt-major and decoded in batches of <see cref="DefaultBatchSize"/>; batch b uses seed <paramref name="seed"/> +
    /// b·<see cref="DefaultBatchSize"/>.
    /// </summary>
    public Rollout[][] Sample(IReadOnlyList<PromptRecord> prompts, int k, float temperature, ulong seed, int maxNewTokens) =>
        Sample(prompts, k, seed, DefaultBatchSize, new GenerationOptions { MaxNewTokens = maxNewTokens, Temperature = temperature, StopTokenIds = _stops }, batchInvariant: false);

    /// <summary>
    /// k completions for every prompt (result[i][j] = prompt i's j-th sample) whose log-probs are those of the sampling
    /// distribution: log softmax(logits / temperature) of each sampled token, before top-k/top-p filtering (TRL's and
    /// vLLM's processed log-probs). Decoded under <see cref="Sgemm.BlockedOrder"/>, so they equal bitwise what
    /// <see cref="CompletionLogProbs.Compute"/> gives for the same tokens and temperature. Rows are prompt-major and
    /// decoded in batches of <see cref="SamplingOptions.BatchSize"/>; the batch starting at row r uses seed
    /// <paramref name="seed"/> + r.
    /// </summary>
    /// <exception cref="ArgumentException">The batch size is below 1, or an option is out of range (<see cref="GenerationOptionException"/> names it).</exception>
    public Rollout[][] Sample(IReadOnlyList<PromptRecord> prompts, int k, SamplingOptions options, ulong seed)
    {
        if (options.BatchSize < 1) throw new ArgumentException($"sampling: batch_size must be at least 1 (got {options.BatchSize})", nameof(options));
        return Sample(prompts, k, seed, options.BatchSize, new GenerationOptions
        {
            MaxNewTokens = options.MaxNewTokens, Temperature = options.Temperature, TopP = options.TopP, TopK = options.TopK,
            StopTokenIds = _stops, LogProbsAtTemperature = true,
        }, batchInvariant: true, options.MaxPromptLength);
    }

    /// <param name="batchInvariant">Decode under <see cref="Sgemm.BlockedOrder"/>: each row's logits are bitwise those of the
    /// same sequence in <see cref="CompletionLogProbs.Compute"/>'s training forward, whatever the batch.</param>
    private Rollout[][] Sample(IReadOnlyList<PromptRecord> prompts, int k, ulong seed, int batchSize, GenerationOptions generation, bool batchInvariant, int? maxPromptLength = null)
    {
        var encoded = prompts.Select(p => PromptIds(p) is var ids && maxPromptLength is { } max && ids.Length > max ? ids[^max..] : ids).ToList();
        var output = prompts.Select(_ => new Rollout[k]).ToArray();
        var rows = Enumerable.Range(0, prompts.Count).SelectMany(i => Enumerable.Range(0, k).Select(j => (i, j))).ToList();
        for (int start = 0; start < rows.Count; start += batchSize)
        {
            var chunk = rows.Skip(start).Take(batchSize).ToList();
            ulong batchSeed = seed + (ulong)start;
            IReadOnlyList<GenerationResult> generated;
            using (batchInvariant ? Sgemm.BlockedOrder() : default(Sgemm.BlockedOrderScope?))
                generated = _generator.Generate(chunk.Select(r => encoded[r.i]).ToList(), generation with { Seed = batchSeed });
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
