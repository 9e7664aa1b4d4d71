namespace AlignSharp.Feedback;

/// <summary>Why a sampled completion ended.</summary>
public enum FinishReason
{
    /// <summary>A stop token or stop sequence was produced.</summary>
    Stop,
    /// <summary>The token budget (max_new_tokens, or the model's context) ran out first.</summary>
    Length,
}

/// <summary>
/// One sampled completion of a policy, exactly as the engine produced it: the prompt's token ids, the sampled
/// completion ids (including a final stop token when there is one), and the log-probability of each sampled token
/// under the sampling policy (at temperature 1, or at the sampling temperature when sampled for online RL; before
/// top-k/top-p filtering), so online RL can train on the very tokens that were
/// sampled and take importance ratios against the sampling log-probs. <see cref="Text"/> is the decoded completion
/// (stop token and surrounding whitespace removed), what signal sources read.
/// </summary>
/// <param name="Prompt">The prompt answered.</param>
/// <param name="PromptIds">The prompt as rendered by the chat template and tokenized.</param>
/// <param name="CompletionIds">The sampled token ids.</param>
/// <param name="LogProbs">log π(token | prefix) of each sampled token under the sampling policy; same length as <paramref name="CompletionIds"/>.</param>
/// <param name="Text">The decoded completion, trimmed.</param>
/// <param name="Finish">Why sampling ended.</param>
/// <param name="Seed">The sampling seed of the batch it came from.</param>
/// <param name="Model">The policy that sampled it (a folder name or model id).</param>
public sealed record Rollout(PromptRecord Prompt, int[] PromptIds, int[] CompletionIds, float[] LogProbs, string Text, FinishReason Finish,
    long? Seed = null, string? Model = null)
{
    /// <summary>Σ log-probs of the completion under the sampling policy.</summary>
    public double SumLogProb => LogProbs.Sum(x => (double)x);

    /// <summary>"stop" or "length", as OpenAI's API and recipes spell finish reasons.</summary>
    public static FinishReason ParseFinish(string reason) => reason switch
    {
        "stop" => FinishReason.Stop,
        "length" => FinishReason.Length,
        _ => throw new FeedbackException($"finish reason '{reason}' is not stop or length"),
    };
}
