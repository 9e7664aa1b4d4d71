namespace AlignSharp.Feedback;

/// <summary>
/// Weighted mean of the sources that apply: Σ wᵢ·sᵢ / Σ wᵢ over applicable i, so a source that does not apply to a
/// prompt (or a judge whose answer was unparsable) neither helps nor hurts it. Null when none applies; unparsable when
/// some applied but none could be read. Parts hold each applicable source's score by name.
/// </summary>
public sealed class WeightedSum : ISignalSource
{
    readonly (ISignalSource Source, double Weight)[] sources;

    public WeightedSum(params (ISignalSource Source, double Weight)[] sources)
    {
        if (sources.Length == 0) throw new FeedbackException("weighted_sum: give at least one source");
        foreach (var (source, weight) in sources)
            if (!(weight > 0) || !double.IsFinite(weight))
                throw new FeedbackException($"weighted_sum: weight of '{source.Name}' must be a positive number (got {weight})");
        SourceNames.RequireDistinct("weighted_sum", sources.Select(s => s.Source));
        this.sources = sources;
        Name = $"weighted_sum({string.Join(", ", sources.Select(s => $"{s.Source.Name}*{s.Weight:0.###}"))})";
        Fingerprint = SignalFingerprint.Of(Name, 1, string.Join("|", sources.Select(s => $"{s.Source.Fingerprint}*{s.Weight:R}")));
    }

    public string Name { get; }

    public string Fingerprint { get; }

    public FeedbackLabel? Score(PromptRecord prompt, string response) =>
        Combine(sources.Select(s => (s.Source, s.Weight, s.Source.Score(prompt, response))).ToArray());

    public async ValueTask<FeedbackLabel?> ScoreAsync(PromptRecord prompt, string response, CancellationToken cancellationToken = default)
    {
        var labels = new (ISignalSource, double, FeedbackLabel?)[sources.Length];
        for (int i = 0; i < sources.Length; i++)
            labels[i] = (sources[i].Source, sources[i].Weight, await sources[i].Source.ScoreAsync(prompt, response, cancellationToken));
        return Combine(labels);
    }

    FeedbackLabel? Combine((ISignalSource Source, double Weight, FeedbackLabel? Label)[] all)
    {
        var applied = all.Where(a => a.Label.IsScored()).Select(a => (a.Source, a.Weight, Label: a.Label!)).ToArray();
        if (applied.Length == 0) return Unscored.Of(Name, all.Select(a => a.Label));
        double score = applied.Sum(a => a.Weight * a.Label.Score) / applied.Sum(a => a.Weight);
        return new FeedbackLabel(score,
            string.Join("; ", applied.Select(a => $"{a.Source.Name} {a.Label.Score:0.###}: {a.Label.Rationale}")),
            new Provenance(Name, SignalKind.Composite, Inputs: applied.Select(a => a.Label.Provenance).ToArray()),
            applied.ToDictionary(a => a.Source.Name, a => a.Label.Score));
    }
}
