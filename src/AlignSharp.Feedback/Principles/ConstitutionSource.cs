namespace AlignSharp.Feedback;

/// <summary>
/// Scores a response against every principle of a constitution that applies (category filter, and the scorer itself
/// applying), and returns their weighted mean in [0, 1] with each principle's score in <see cref="FeedbackLabel.Parts"/>
/// and the principles named in the provenance. Null when no principle applies.
/// Each principle is scored by its programmatic check or by a judge (<see cref="Constitution.JudgeScores"/>): a
/// principle with text only, one marked <c>scorer: judge</c>, and — when the file or the pipeline says judge_checks —
/// every principle whose scorer is auto. Judges come from the factory given (principle → source, typically a
/// <see cref="Judges.PrincipleJudge"/>, wrapped in a <see cref="Store.CachingSignalSource"/> so each verdict is paid
/// for once); without one, a principle that needs a judge is refused when the source is made, naming it. A judge's
/// unparsable answer counts as the principle not applying; when every principle that applied was unparsable, the
/// label is unparsable.
/// </summary>
public sealed class ConstitutionSource : ISignalSource
{
    readonly Constitution constitution;
    readonly (Principle Principle, ISignalSource Scorer, bool Judged)[] scorers;

    /// <param name="constitution">The principles, and the checks they may name.</param>
    /// <param name="judge">Makes the judge of a principle that a judge scores (called once per such principle); null when the pipeline has no judge.</param>
    /// <param name="judgeChecks">The pipeline's judge_checks: a judge scores principles with a check too (those whose scorer is auto).</param>
    public ConstitutionSource(Constitution constitution, Func<Principle, ISignalSource>? judge = null, bool judgeChecks = false)
    {
        this.constitution = constitution;
        scorers = constitution.Principles.Select(p =>
        {
            if (!constitution.JudgeScores(p, judgeChecks)) return (p, constitution.Checks[p.Check!], false);
            if (judge is null)
                throw new FeedbackException(p.Check is null
                    ? $"{p.Origin}: principle '{p.Id}' has text only (no check:), so only a judge can score it, and this pipeline has none; " +
                      $"give it a programmatic check (one of: {string.Join(", ", constitution.Checks.Keys)}) or remove it"
                    : $"{p.Origin}: principle '{p.Id}' is to be scored by a judge ({(p.Scorer == PrincipleScorer.Judge ? "scorer: judge" : "judge_checks")}), and this pipeline has none; " +
                      "configure a judge, or let its check score it (scorer: check)");
            return (p, judge(p), true);
        }).ToArray();
        Fingerprint = SignalFingerprint.Of(Name, 1, string.Join("|", scorers.Select(s =>
            $"{s.Principle.Id}:{s.Principle.Weight:R}:{string.Join(",", s.Principle.AppliesTo)}:{s.Scorer.Fingerprint}:{SignalFingerprint.Hash(s.Principle.Text)}")));
    }

    public Constitution Constitution => constitution;

    public string Name => $"constitution:{constitution.Name}";

    public string Fingerprint { get; }

    /// <summary>The principles a judge scores here, with their judges.</summary>
    public IReadOnlyList<(Principle Principle, ISignalSource Judge)> Judged => scorers.Where(s => s.Judged).Select(s => (s.Principle, s.Scorer)).ToList();

    public FeedbackLabel? Score(PromptRecord prompt, string response)
    {
        var labels = new List<(Principle, ISignalSource, bool, FeedbackLabel)>();
        foreach (var (principle, scorer, judged) in scorers)
            if (principle.AppliesToCategory(prompt.Category) && scorer.Score(prompt, response) is { } label)
                labels.Add((principle, scorer, judged, label));
        return Combine(labels);
    }

    /// <summary>Asks every applicable principle's scorer at once (judges run concurrently), then combines.</summary>
    public async ValueTask<FeedbackLabel?> ScoreAsync(PromptRecord prompt, string response, CancellationToken cancellationToken = default)
    {
        var applicable = scorers.Where(s => s.Principle.AppliesToCategory(prompt.Category)).ToArray();
        var tasks = applicable.Select(s => s.Scorer.ScoreAsync(prompt, response, cancellationToken).AsTask()).ToArray();
        var results = await Task.WhenAll(tasks).ConfigureAwait(false);
        var labels = new List<(Principle, ISignalSource, bool, FeedbackLabel)>();
        for (int i = 0; i < applicable.Length; i++)
            if (results[i] is { } label) labels.Add((applicable[i].Principle, applicable[i].Scorer, applicable[i].Judged, label));
        return Combine(labels);
    }

    FeedbackLabel? Combine(List<(Principle Principle, ISignalSource Scorer, bool Judged, FeedbackLabel Label)> all)
    {
        var labels = all.Where(l => !l.Label.Unparsable).ToList();
        if (labels.Count == 0) return Unscored.Of(Name, all.Select(l => (FeedbackLabel?)l.Label));
        double total = labels.Sum(l => l.Principle.Weight);
        double score = labels.Sum(l => l.Principle.Weight * l.Label.Score) / total;
        var parts = labels.ToDictionary(l => l.Principle.Id, l => l.Label.Score);
        string rationale = string.Join("; ", labels.Select(l => $"{l.Principle.Id} {l.Label.Score:0.###}: {l.Label.Rationale}"));
        // A check's label is recorded as the principle's; a judge's keeps its kind (judge), model and template.
        var inputs = labels.Select(l => l.Label.Provenance with { Kind = l.Judged ? l.Label.Provenance.Kind : SignalKind.Principle, PrincipleId = l.Principle.Id }).ToArray();
        var provenance = new Provenance(Name, SignalKind.Principle, PrincipleId: string.Join(",", labels.Select(l => l.Principle.Id)), Inputs: inputs);
        return new FeedbackLabel(score, rationale, provenance, parts);
    }
}
