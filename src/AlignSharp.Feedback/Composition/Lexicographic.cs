namespace AlignSharp.Feedback;

/// <summary>
/// Strict priority between sources: a response is better when it is better on the first level, and only on a tie
/// there does the next level count ("principles first, then correctness"). Levels are expected in [0, 1] (clamped)
/// and quantised to <c>steps</c> steps, so near-equal scores tie.
/// As a single number: score = Σᵢ qᵢ·(steps+1)^(n−1−i) / Σᵢ steps·(steps+1)^(n−1−i) over the levels that apply, with
/// qᵢ = round(sᵢ·steps); it lies in [0, 1] (1 when every applicable level is perfect) and orders responses exactly
/// as <see cref="Compare"/> does whenever the same levels apply, which holds for sources whose applicability depends
/// only on the prompt (all built-ins). Null when no level applies (an unparsable judge answer counts as not applying;
/// when every level that applied was unparsable, the label is unparsable). Parts hold each applicable level's quantised score.
/// </summary>
public sealed class Lexicographic : ISignalSource
{
    readonly ISignalSource[] levels;
    readonly int steps;

    public Lexicographic(params ISignalSource[] levels) : this(100, levels) { }

    public Lexicographic(int steps, params ISignalSource[] levels)
    {
        if (levels.Length == 0) throw new FeedbackException("lexicographic: give at least one level");
        if (steps < 1) throw new FeedbackException($"lexicographic: steps must be at least 1 (got {steps})");
        // (steps+1)^n must stay exact in a double (2^53) for the single number to keep the order.
        if (levels.Length * Math.Log2(steps + 1) > 52)
            throw new FeedbackException($"lexicographic: {levels.Length} levels at {steps} steps overflow a double's precision; use fewer steps");
        SourceNames.RequireDistinct("lexicographic", levels);
        this.levels = levels;
        this.steps = steps;
        Name = $"lexicographic({string.Join(" > ", levels.Select(l => l.Name))})";
        Fingerprint = SignalFingerprint.Of(Name, 1, $"steps={steps}|" + string.Join("|", levels.Select(l => l.Fingerprint)));
    }

    public string Name { get; }

    public string Fingerprint { get; }

    /// <summary>The levels in priority order.</summary>
    public IReadOnlyList<ISignalSource> Levels => levels;

    public FeedbackLabel? Score(PromptRecord prompt, string response) =>
        Combine(levels.Select(l => l.Score(prompt, response)).ToArray());

    public async ValueTask<FeedbackLabel?> ScoreAsync(PromptRecord prompt, string response, CancellationToken cancellationToken = default)
    {
        var labels = new FeedbackLabel?[levels.Length];
        for (int i = 0; i < levels.Length; i++) labels[i] = await levels[i].ScoreAsync(prompt, response, cancellationToken);
        return Combine(labels);
    }

    /// <summary>
    /// Compares two labels made by this source level by level (negative when <paramref name="a"/> is worse). A level
    /// that did not apply ranks below one that did.
    /// </summary>
    public int Compare(FeedbackLabel a, FeedbackLabel b)
    {
        foreach (var level in levels)
        {
            double? x = Level(a, level.Name), y = Level(b, level.Name);
            int c = Nullable.Compare(x, y);
            if (c != 0) return c;
        }
        return 0;
    }

    /// <summary><see cref="Compare"/> as an <see cref="IComparer{T}"/>, for sorting.</summary>
    public IComparer<FeedbackLabel> Comparer => Comparer<FeedbackLabel>.Create(Compare);

    static double? Level(FeedbackLabel label, string name) =>
        label.Parts is { } parts && parts.TryGetValue(name, out var v) ? v : null;

    int Quantise(double score) => (int)Math.Round(Math.Clamp(double.IsNaN(score) ? 0 : score, 0, 1) * steps);

    FeedbackLabel? Combine(FeedbackLabel?[] labels)
    {
        double value = 0, max = 0, place = 1;
        var parts = new Dictionary<string, double>();
        for (int i = levels.Length - 1; i >= 0; i--, place *= steps + 1)
        {
            if (labels[i] is not { Unparsable: false } label) continue;
            int q = Quantise(label.Score);
            value += q * place;
            max += steps * place;
            parts[levels[i].Name] = (double)q / steps;
        }
        if (max == 0) return Unscored.Of(Name, labels);
        var applied = Enumerable.Range(0, levels.Length).Where(i => labels[i].IsScored()).ToArray();
        return new FeedbackLabel(value / max,
            string.Join("; ", applied.Select(i => $"{levels[i].Name} {labels[i]!.Score:0.###}: {labels[i]!.Rationale}")),
            new Provenance(Name, SignalKind.Composite, Inputs: applied.Select(i => labels[i]!.Provenance).ToArray()),
            applied.ToDictionary(i => levels[i].Name, i => parts[levels[i].Name]));
    }
}
