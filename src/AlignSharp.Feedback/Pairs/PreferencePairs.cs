namespace AlignSharp.Feedback;

/// <summary>
/// Turns k scored responses to one prompt into training data: a best-vs-worst <see cref="PreferencePair"/> for
/// DPO-style trainers, or per-response desirable/undesirable <see cref="UnpairedLabel"/>s for KTO (Ethayarajh et al.
/// 2024, "KTO: Model Alignment as Prospect Theoretic Optimization").
/// </summary>
public static class PreferencePairs
{
    /// <summary>
    /// The highest-scored response as chosen and the lowest as rejected; among equal scores the earliest index wins,
    /// so the result is deterministic. Null (the prompt is dropped) when fewer than two responses are scored or best
    /// and worst tie: a pair with no preference teaches nothing.
    /// </summary>
    public static PreferencePair? Build(PromptRecord prompt, IReadOnlyList<string> responses, ISignalSource source) =>
        Build(prompt, responses, SignalBatch.Score(source, responses.Select(r => new SignalItem(prompt, r)).ToArray()));

    /// <summary><see cref="Build(PromptRecord, IReadOnlyList{string}, ISignalSource)"/> through the source's async batch path.</summary>
    public static async ValueTask<PreferencePair?> BuildAsync(PromptRecord prompt, IReadOnlyList<string> responses, ISignalSource source,
        CancellationToken cancellationToken = default) =>
        Build(prompt, responses, await ScoreAllAsync(prompt, responses, source, cancellationToken));

    /// <summary>
    /// Unpaired labels for KTO: each scored response with Desirable = score ≥ <paramref name="threshold"/>;
    /// responses the source does not apply to are left out.
    /// </summary>
    public static IReadOnlyList<UnpairedLabel> BuildUnpaired(PromptRecord prompt, IReadOnlyList<string> responses, ISignalSource source, double threshold = 0.5) =>
        BuildUnpaired(prompt, responses, SignalBatch.Score(source, responses.Select(r => new SignalItem(prompt, r)).ToArray()), threshold);

    /// <summary><see cref="BuildUnpaired(PromptRecord, IReadOnlyList{string}, ISignalSource, double)"/> through the source's async batch path.</summary>
    public static async ValueTask<IReadOnlyList<UnpairedLabel>> BuildUnpairedAsync(PromptRecord prompt, IReadOnlyList<string> responses, ISignalSource source,
        double threshold = 0.5, CancellationToken cancellationToken = default) =>
        BuildUnpaired(prompt, responses, await ScoreAllAsync(prompt, responses, source, cancellationToken), threshold);

    static ValueTask<FeedbackLabel?[]> ScoreAllAsync(PromptRecord prompt, IReadOnlyList<string> responses, ISignalSource source, CancellationToken cancellationToken) =>
        source.ScoreBatchAsync(responses.Select(r => new SignalItem(prompt, r)).ToArray(), 1, cancellationToken);

    /// <summary>Best vs worst from labels already computed (one per response, null = not applicable; unparsable labels are skipped too); null on a tie.</summary>
    public static PreferencePair? Build(PromptRecord prompt, IReadOnlyList<string> responses, IReadOnlyList<FeedbackLabel?> labels)
    {
        if (labels.Count != responses.Count) throw new ArgumentException($"{labels.Count} labels for {responses.Count} responses");
        int best = -1, worst = -1;
        for (int i = 0; i < labels.Count; i++)
        {
            if (labels[i] is not { Unparsable: false } label) continue;  // not applicable, or a judge answer that could not be read
            if (best < 0 || label.Score > labels[best]!.Score) best = i;
            if (worst < 0 || label.Score < labels[worst]!.Score) worst = i;
        }
        if (best < 0 || !(labels[best]!.Score > labels[worst]!.Score)) return null;
        return new PreferencePair(prompt, responses[best], responses[worst], labels[best]!, labels[worst]!);
    }

    /// <summary>Unpaired labels from labels already computed (one per response, null = not applicable).</summary>
    public static IReadOnlyList<UnpairedLabel> BuildUnpaired(PromptRecord prompt, IReadOnlyList<string> responses, IReadOnlyList<FeedbackLabel?> labels, double threshold = 0.5)
    {
        if (labels.Count != responses.Count) throw new ArgumentException($"{labels.Count} labels for {responses.Count} responses");
        return Enumerable.Range(0, labels.Count).Where(i => labels[i].IsScored())
            .Select(i => new UnpairedLabel(prompt, responses[i], labels[i]!.Score >= threshold, labels[i]!)).ToArray();
    }
}
