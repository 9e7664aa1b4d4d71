namespace AlignSharp.Models.Generation;

/// <summary>Decoding options, with Hugging Face generate()'s meanings and order of application.</summary>
public sealed record GenerationOptions
{
    /// <summary>Tokens to generate at most per sequence.</summary>
    public int MaxNewTokens { get; init; } = 128;
    /// <summary>0 = greedy (argmax); otherwise logits are divided by it before sampling.</summary>
    public float Temperature { get; init; } = 1f;
    /// <summary>Keep only the k most likely tokens (0 = off).</summary>
    public int TopK { get; init; }
    /// <summary>Nucleus sampling: keep the smallest set of tokens whose probability sums to at least p (1 = off).</summary>
    public float TopP { get; init; } = 1f;
    /// <summary>Keep tokens whose probability is at least min_p times the most likely one's (0 = off).</summary>
    public float MinP { get; init; }
    /// <summary>CTRL's penalty on tokens already in the sequence: positive logits divided by it, negative multiplied (1 = off).</summary>
    public float RepetitionPenalty { get; init; } = 1f;
    /// <summary>Generation stops after one of these tokens (null: the model's eos_token_id).</summary>
    public IReadOnlyList<int>? StopTokenIds { get; init; }
    /// <summary>Generation stops when the text contains one of these; the text is cut before it.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];
    /// <summary>Seed of the sampler (same seed and inputs, same output).</summary>
    public ulong Seed { get; init; }
    /// <summary>
    /// false: each token's log-prob is log softmax(logits)[token] (temperature 1). true: log softmax(logits / temperature)[token],
    /// the sampling distribution before top-k/top-p/min-p and repetition penalty — TRL's and vLLM's "processed" log-probs, what an
    /// online trainer's forward computes at the same temperature. Greedy decoding (temperature 0) reports temperature-1 log-probs.
    /// </summary>
    public bool LogProbsAtTemperature { get; init; }

    /// <summary>The options of row <paramref name="row"/> of a batch (or choice <paramref name="row"/> of a request with n &gt; 1): its own sampler seed.</summary>
    public GenerationOptions ForRow(int row) => row == 0 ? this : this with { Seed = Seed + (ulong)row * 0x9E3779B97F4A7C15UL };

    /// <summary>Checks every option's range (as Hugging Face's generate() does); <see cref="Generator"/> calls it before decoding.</summary>
    /// <exception cref="GenerationOptionException">An option is out of range; <see cref="GenerationOptionException.Option"/> names it.</exception>
    public void Validate()
    {
        // Each condition is a comparison that NaN fails, so NaN is refused too.
        static void Require(bool ok, string option, string message) { if (!ok) throw new GenerationOptionException(option, $"{option} {message}"); }
        Require(MaxNewTokens >= 0, "max_new_tokens", $"must be ≥ 0 (got {MaxNewTokens})");
        Require(Temperature >= 0 && float.IsFinite(Temperature), "temperature", $"must be ≥ 0 (0 = greedy; got {Temperature})");
        Require(TopK >= 0, "top_k", $"must be ≥ 0 (0 = off; got {TopK})");
        Require(TopP > 0 && TopP <= 1, "top_p", $"must be in (0, 1] (1 = off; got {TopP})");
        Require(MinP >= 0 && MinP <= 1, "min_p", $"must be in [0, 1] (0 = off; got {MinP})");
        Require(RepetitionPenalty > 0 && float.IsFinite(RepetitionPenalty), "repetition_penalty", $"must be > 0 (1 = off; got {RepetitionPenalty})");
        // An empty stop string is found at once, so it would end every generation before its first token's text.
        Require(StopStrings.All(s => !string.IsNullOrEmpty(s)), "stop_strings", "must not contain an empty string");
    }
}

/// <summary>A generation option or request out of range; <see cref="Option"/> is its generate() name (e.g. "top_p"), or null for the prompt.</summary>
public sealed class GenerationOptionException(string? option, string message) : ArgumentException(message)
{
    public string? Option { get; } = option;
}

/// <summary>
/// One generated sequence: the new tokens, their text, the log-probability of each token under the model (at temperature 1, or
/// at the sampling temperature with <see cref="GenerationOptions.LogProbsAtTemperature"/>), and why it stopped.
/// </summary>
public sealed record GenerationResult(int[] Tokens, string Text, float[] LogProbs, string FinishReason);
