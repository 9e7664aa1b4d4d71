// TEMPORARY (removed when the sampler lands from its branch): lets main build while PolicySampler moves into Training.
using AlignSharp.Feedback;
using AlignSharp.Models.Transformers;
using AlignSharp.Training.Data;

namespace AlignSharp.Training.Online;

public sealed record SamplingOptions
{
    public int MaxNewTokens { get; init; } = 256;
    public float Temperature { get; init; } = 1f;
    public float TopP { get; init; } = 1f;
    public int TopK { get; init; }
    public int BatchSize { get; init; } = 64;
}

public sealed class PolicySampler(TransformerModel model, ExampleTokenizer encoder, string? modelName = null)
{
    public Rollout[][] Sample(IReadOnlyList<PromptRecord> prompts, int k, SamplingOptions options, ulong seed) => throw new NotImplementedException($"{model}{encoder}{modelName}");
}
