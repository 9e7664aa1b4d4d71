namespace AlignSharp.Feedback.Judges;

/// <summary>Settings of an LLM judge; each one that changes verdicts is part of the judge's fingerprint.</summary>
public sealed record JudgeOptions
{
    /// <summary>The prompt template; null for the judge's built-in one (<see cref="JudgeTemplate.Principle"/>, <see cref="JudgeTemplate.Rubric"/>, <see cref="JudgeTemplate.Pairwise"/>).</summary>
    public JudgeTemplate? Template { get; init; }

    /// <summary>Sampling temperature; 0 (default) is greedy, so a verdict is reproducible and may be cached.</summary>
    public float Temperature { get; init; }

    /// <summary>Most tokens the judge may write; null for the judge's default (yes/no and pairwise 8, rubric 320).</summary>
    public int? MaxOutputTokens { get; init; }

    /// <summary>
    /// Alternatives per generated token to ask log-probs for (0–20; the OpenAI API's top_logprobs), so yes/no and A/B
    /// verdicts become soft labels; 0 asks for none and verdicts are hard (1/0). Default 5. Providers that return
    /// none give hard verdicts too.
    /// </summary>
    public int TopLogprobs { get; init; } = 5;

    /// <summary>Sampling seed sent with every request; null for none.</summary>
    public long? Seed { get; init; }

    /// <summary>The model to ask for (ChatOptions.ModelId); null for the client's default, read from its ChatClientMetadata.</summary>
    public string? Model { get; init; }

    /// <summary>Pairwise only: an order-averaged P(A better) within this distance of 0.5 is a tie. Default 0.1.</summary>
    public double TieMargin { get; init; } = 0.1;

    /// <summary>Checks the settings; errors name the setting.</summary>
    /// <exception cref="FeedbackException">A setting is out of range.</exception>
    public void Validate(string judge)
    {
        if (!(Temperature >= 0) || !float.IsFinite(Temperature)) throw new FeedbackException($"{judge}: temperature must be 0 or more (got {Temperature})");
        if (MaxOutputTokens is < 1) throw new FeedbackException($"{judge}: max output tokens must be at least 1 (got {MaxOutputTokens})");
        if (TopLogprobs is < 0 or > 20) throw new FeedbackException($"{judge}: top_logprobs must be in [0, 20] (got {TopLogprobs})");
        if (!(TieMargin >= 0 && TieMargin < 0.5)) throw new FeedbackException($"{judge}: tie margin must be in [0, 0.5) (got {TieMargin})");
    }
}
