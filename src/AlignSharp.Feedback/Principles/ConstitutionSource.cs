namespace AlignSharp.Feedback;

/// <summary>
/// Scores a response against every principle of a constitution that applies (category filter, and the check itself
/// applying), and returns their weighted mean in [0, 1] with each principle's score in <see cref="FeedbackLabel.Parts"/>
/// and the principles named in the provenance. Null when no principle applies.
/// </summary>
public sealed class ConstitutionSource(Constitution constitution) : ISignalSource
{
    public Constitution Constitution => constitution;

    public string Name => $"constitution:{constitution.Name}";

    public FeedbackLabel? Score(PromptRecord prompt, string response)
    {
        var labels = new List<(Principle, FeedbackLabel)>();
        foreach (var principle in constitution.Principles)
            if (principle.AppliesToCategory(prompt.Category) && constitution.Checks[principle.Check].Score(prompt, response) is { } label)
                labels.Add((principle, label));
        return Combine(labels);
    }

    public async ValueTask<FeedbackLabel?> ScoreAsync(PromptRecord prompt, string response, CancellationToken cancellationToken = default)
    {
        var labels = new List<(Principle, FeedbackLabel)>();
        foreach (var principle in constitution.Principles)
            if (principle.AppliesToCategory(prompt.Category) && await constitution.Checks[principle.Check].ScoreAsync(prompt, response, cancellationToken) is { } label)
                labels.Add((principle, label));
        return Combine(labels);
    }

    FeedbackLabel? Combine(List<(Principle Principle, FeedbackLabel Label)> labels)
    {
        if (labels.Count == 0) return null;
        double total = labels.Sum(l => l.Principle.Weight);
        double score = labels.Sum(l => l.Principle.Weight * l.Label.Score) / total;
        var parts = labels.ToDictionary(l => l.Principle.Id, l => l.Label.Score);
        string rationale = string.Join("; ", labels.Select(l => $"{l.Principle.Id} {l.Label.Score:0.###}: {l.Label.Rationale}"));
        var inputs = labels.Select(l => l.Label.Provenance with { Kind = SignalKind.Principle, PrincipleId = l.Principle.Id }).ToArray();
        var provenance = new Provenance(Name, SignalKind.Principle, PrincipleId: string.Join(",", labels.Select(l => l.Principle.Id)), Inputs: inputs);
        return new FeedbackLabel(score, rationale, provenance, parts);
    }
}
