namespace AlignSharp.Feedback;

/// <summary>
/// Turns k scored responses to one prompt into training data: a best-vs-worst preference pair for DPO-style trainers,
/// or per-response desirable/undesirable labels for KTO (Ethayarajh et al. 2024, "KTO: Model Alignment as Prospect
/// Theoretic Optimization").
/// </summary>
public static class PreferencePairs
{
    /// <summary>
    /// The highest-scored response as chosen and the lowest as rejected; among equal scores the earliest index wins,
    /// so the result is deterministic. Null (the prompt is dropped) when fewer than two responses are scored or best
    /// and worst tie: a pair with no preference teaches nothing.
    /// </summary>
    public static (string Chosen, string Rejected, FeedbackLabel ChosenLabel, FeedbackLabel RejectedLabel)? Build(
        PromptRecord prompt, IReadOnlyList<string> responses, ISignalSource source) =>
        BestAndWorst(responses, responses.Select(r => source.Score(prompt, r)).ToArray());

    /// <summary><see cref="Build"/> for sources that call a model; responses are scored one after another.</summary>
    public static async ValueTask<(string Chosen, string Rejected, FeedbackLabel ChosenLabel, FeedbackLabel RejectedLabel)?> BuildAsync(
        PromptRecord prompt, IReadOnlyList<string> responses, ISignalSource source, CancellationToken cancellationToken = default) =>
        BestAndWorst(responses, await ScoreAllAsync(prompt, responses, source, cancellationToken));

    /// <summary>
    /// Unpaired labels for KTO: each scored response with Desirable = score ≥ <paramref name="threshold"/>;
    /// responses the source does not apply to are left out.
    /// </summary>
    public static IReadOnlyList<(string Completion, bool Desirable, FeedbackLabel Label)> BuildUnpaired(
        PromptRecord prompt, IReadOnlyList<string> responses, ISignalSource source, double threshold = 0.5) =>
        Unpaired(responses, responses.Select(r => source.Score(prompt, r)).ToArray(), threshold);

    /// <summary><see cref="BuildUnpaired"/> for sources that call a model.</summary>
    public static async ValueTask<IReadOnlyList<(string Completion, bool Desirable, FeedbackLabel Label)>> BuildUnpairedAsync(
        PromptRecord prompt, IReadOnlyList<string> responses, ISignalSource source, double threshold = 0.5, CancellationToken cancellationToken = default) =>
        Unpaired(responses, await ScoreAllAsync(prompt, responses, source, cancellationToken), threshold);

    static async ValueTask<FeedbackLabel?[]> ScoreAllAsync(PromptRecord prompt, IReadOnlyList<string> responses, ISignalSource source, CancellationToken cancellationToken)
    {
        var labels = new FeedbackLabel?[responses.Count];
        for (int i = 0; i < labels.Length; i++) labels[i] = await source.ScoreAsync(prompt, responses[i], cancellationToken);
        return labels;
    }

    /// <summary>Best vs worst from labels already computed (one per response, null = not applicable); null on a tie.</summary>
    public static (string Chosen, string Rejected, FeedbackLabel ChosenLabel, FeedbackLabel RejectedLabel)? Build(IReadOnlyList<string> responses, IReadOnlyList<FeedbackLabel?> labels)
    {
        if (labels.Count != responses.Count) throw new ArgumentException($"{labels.Count} labels for {responses.Count} responses");
        return BestAndWorst(responses, labels);
    }

    /// <summary><see cref="BuildUnpaired(PromptRecord, IReadOnlyList{string}, ISignalSource, double)"/> from labels already computed (one per response, null = not applicable).</summary>
    public static IReadOnlyList<(string Completion, bool Desirable, FeedbackLabel Label)> BuildUnpaired(IReadOnlyList<string> responses, IReadOnlyList<FeedbackLabel?> labels, double threshold = 0.5)
    {
        if (labels.Count != responses.Count) throw new ArgumentException($"{labels.Count} labels for {responses.Count} responses");
        return Unpaired(responses, labels, threshold);
    }

    static (string, string, FeedbackLabel, FeedbackLabel)? BestAndWorst(IReadOnlyList<string> responses, IReadOnlyList<FeedbackLabel?> labels)
    {
        int best = -1, worst = -1;
        for (int i = 0; i < labels.Count; i++)
        {
            if (labels[i] is not { } label) continue;
            if (best < 0 || label.Score > labels[best]!.Score) best = i;
            if (worst < 0 || label.Score < labels[worst]!.Score) worst = i;
        }
        if (best < 0 || !(labels[best]!.Score > labels[worst]!.Score)) return null;
        return (responses[best], responses[worst], labels[best]!, labels[worst]!);
    }

    static IReadOnlyList<(string, bool, FeedbackLabel)> Unpaired(IReadOnlyList<string> responses, IReadOnlyList<FeedbackLabel?> labels, double threshold) =>
        Enumerable.Range(0, labels.Count).Where(i => labels[i] is not null)
            .Select(i => (responses[i], labels[i]!.Score >= threshold, labels[i]!)).ToArray();
}
