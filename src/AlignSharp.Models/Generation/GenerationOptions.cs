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

    internal void Validate()
    {
        if (MaxNewTokens < 0) throw new ArgumentException($"max_new_tokens must be ≥ 0 (got {MaxNewTokens})");
        if (Temperature < 0) throw new ArgumentException($"temperature must be ≥ 0 (got {Temperature})");
        if (TopK < 0) throw new ArgumentException($"top_k must be ≥ 0 (got {TopK})");
        if (TopP is <= 0 or > 1) throw new ArgumentException($"top_p must be in (0, 1] (got {TopP})");
        if (MinP is < 0 or > 1) throw new ArgumentException($"min_p must be in [0, 1] (got {MinP})");
        if (RepetitionPenalty <= 0) throw new ArgumentException($"repetition_penalty must be > 0 (got {RepetitionPenalty})");
    }
}

/// <summary>One generated sequence: the new tokens, their text, the log-probability of each token under the model, and why it stopped.</summary>
public sealed record GenerationResult(int[] Tokens, string Text, float[] LogProbs, string FinishReason);
