namespace AlignSharp.Feedback;

/// <summary>
/// The label of the first source that applies and gives a readable score, in order; null when none applies (the first
/// unparsable label when the only ones that applied were unparsable). For sources that split one question
/// by prompt type, such as "is the answer correct?" = numeric verifier, else exact-word verifier.
/// </summary>
public sealed class FirstApplicable(string name, params ISignalSource[] sources) : ISignalSource
{
    public string Name => name;

    public string Fingerprint { get; } = SignalFingerprint.Of(name, 1, string.Join("|", sources.Select(s => s.Fingerprint)));

    public FeedbackLabel? Score(PromptRecord prompt, string response)
    {
        FeedbackLabel? unparsable = null;
        foreach (var source in sources)
            if (source.Score(prompt, response) is { } label)
            {
                if (!label.Unparsable) return label;
                unparsable ??= label;
            }
        return unparsable;
    }

    public async ValueTask<FeedbackLabel?> ScoreAsync(PromptRecord prompt, string response, CancellationToken cancellationToken = default)
    {
        FeedbackLabel? unparsable = null;
        foreach (var source in sources)
            if (await source.ScoreAsync(prompt, response, cancellationToken) is { } label)
            {
                if (!label.Unparsable) return label;
                unparsable ??= label;
            }
        return unparsable;
    }
}
