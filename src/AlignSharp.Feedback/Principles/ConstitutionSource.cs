namespace AlignSharp.Feedback;

/// <summary>
/// Scores a response against every principle of a constitution that applies (category filter, and the check itself
/// applying), and returns their weighted mean in [0, 1] with each principle's score in <see cref="FeedbackLabel.Parts"/>
/// and the principles named in the provenance. Null when no principle applies. Every principle needs a programmatic
/// check here: a principle with text only is refused when the source is made, naming it (a judge scores those).
/// </summary>
public sealed class ConstitutionSource : ISignalSource
{
    readonly Constitution constitution;

    public ConstitutionSource(Constitution constitution)
    {
        if (constitution.TextOnly is [var first, ..])
            throw new FeedbackException($"{first.Origin}: principle '{first.Id}' has text only (no check:), so only a judge can score it, and this pipeline has none; " +
                $"give it a programmatic check (one of: {string.Join(", ", constitution.Checks.Keys)}) or remove it");
        this.constitution = constitution;
        Fingerprint = SignalFingerprint.Of(Name, 1, string.Join("|", constitution.Principles.Select(p =>
            $"{p.Id}:{p.Weight:R}:{string.Join(",", p.AppliesTo)}:{constitution.Checks[p.Check!].Fingerprint}:{SignalFingerprint.Hash(p.Text)}")));
    }

    public Constitution Constitution => constitution;

    public string Name => $"constitution:{constitution.Name}";

    public string Fingerprint { get; }

    public FeedbackLabel? Score(PromptRecord prompt, string response)
    {
        var labels = new List<(Principle, FeedbackLabel)>();
        foreach (var principle in constitution.Principles)
            if (principle.AppliesToCategory(prompt.Category) && constitution.Checks[principle.Check!].Score(prompt, response) is { } label)
                labels.Add((principle, label));
        return Combine(labels);
    }

    public async ValueTask<FeedbackLabel?> ScoreAsync(PromptRecord prompt, string response, CancellationToken cancellationToken = default)
    {
        var labels = new List<(Principle, FeedbackLabel)>();
        foreach (var principle in constitution.Principles)
            if (principle.AppliesToCategory(prompt.Category) && await constitution.Checks[principle.Check!].ScoreAsync(prompt, response, cancellationToken) is { } label)
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
