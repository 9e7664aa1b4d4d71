namespace AlignSharp.Feedback;

/// <summary>Composite parts are keyed by source name, so the names must be distinct.</summary>
static class SourceNames
{
    public static void RequireDistinct(string composite, IEnumerable<ISignalSource> sources)
    {
        var duplicate = sources.GroupBy(s => s.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new FeedbackException($"{composite}: two sources are named '{duplicate.Key}'; parts are keyed by name, so give each source a distinct name");
    }
}
