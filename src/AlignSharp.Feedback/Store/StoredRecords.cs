namespace AlignSharp.Feedback.Store;

/// <summary>
/// One label as the feedback store keeps it: the source's fingerprint and name, the item scored, and the label —
/// null when the source does not apply to the item (kept too, so the source is not asked again).
/// </summary>
/// <param name="Key">The content hash (<see cref="LabelKey.Of(string, PromptRecord, string)"/>).</param>
/// <param name="Fingerprint">The source's <see cref="ISignalSource.Fingerprint"/>.</param>
/// <param name="Source">The source's <see cref="ISignalSource.Name"/>.</param>
/// <param name="Prompt">The prompt scored.</param>
/// <param name="Response">The response scored.</param>
/// <param name="Label">The label, or null when the source does not apply.</param>
/// <param name="CreatedAt">When the label was made (its provenance's time), or stored when it has none.</param>
public sealed record StoredLabel(string Key, string Fingerprint, string Source, PromptRecord Prompt, string Response, FeedbackLabel? Label, DateTimeOffset CreatedAt)
{
    /// <summary>A label of <paramref name="source"/> for one item, keyed by its content; the time is the provenance's, else now.</summary>
    public static StoredLabel For(ISignalSource source, PromptRecord prompt, string response, FeedbackLabel? label) =>
        new(LabelKey.Of(source.Fingerprint, prompt, response), source.Fingerprint, source.Name, prompt, response, label,
            label?.Provenance.CreatedAt ?? DateTimeOffset.UtcNow);
}

/// <summary>
/// One sampled response as the feedback store keeps it. Token ids, log-probs and the finish reason are present for
/// generations stored from a <see cref="Rollout"/>, null for text-only ones.
/// </summary>
/// <param name="Id">Row id: the order generations were stored in.</param>
/// <param name="Prompt">The prompt answered.</param>
/// <param name="Response">The decoded response.</param>
/// <param name="PromptIds">The prompt's token ids as sampled.</param>
/// <param name="CompletionIds">The sampled token ids.</param>
/// <param name="LogProbs">The sampling log-prob of each completion token.</param>
/// <param name="Finish">Why sampling ended.</param>
/// <param name="Model">The policy that sampled it.</param>
/// <param name="Seed">The sampling seed.</param>
/// <param name="CreatedAt">When it was stored.</param>
public sealed record StoredGeneration(long Id, PromptRecord Prompt, string Response, int[]? PromptIds, int[]? CompletionIds, float[]? LogProbs,
    FinishReason? Finish, string? Model, long? Seed, DateTimeOffset CreatedAt)
{
    /// <summary>The generation as a <see cref="Rollout"/>; null for a text-only generation.</summary>
    public Rollout? ToRollout() => PromptIds is null || CompletionIds is null || LogProbs is null || Finish is null ? null
        : new Rollout(Prompt, PromptIds, CompletionIds, LogProbs, Response, Finish.Value, Seed, Model);
}
