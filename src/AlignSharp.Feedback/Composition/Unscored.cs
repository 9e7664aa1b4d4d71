namespace AlignSharp.Feedback;

/// <summary>What a composite returns when no input carries a score.</summary>
static class Unscored
{
    /// <summary>
    /// Null when no input applied; when some applied but every one was an unparsable judge answer, an unparsable
    /// label naming them, so the outcome is kept (and cached) rather than read as "does not apply".
    /// </summary>
    public static FeedbackLabel? Of(string composite, IEnumerable<FeedbackLabel?> inputs)
    {
        var unparsable = inputs.Where(l => l is { Unparsable: true }).Select(l => l!).ToArray();
        if (unparsable.Length == 0) return null;
        return new FeedbackLabel(0, string.Join("; ", unparsable.Select(l => $"{l.Provenance.Source} {l.Rationale}")),
            new Provenance(composite, SignalKind.Composite, Inputs: unparsable.Select(l => l.Provenance).ToArray()), null, Unparsable: true);
    }
}
