namespace AlignSharp.Feedback;

/// <summary>
/// The label of the first source that applies, in order; null when none does. For sources that split one question
/// by prompt type, such as "is the answer correct?" = numeric verifier, else exact-word verifier.
/// </summary>
public sealed class FirstApplicable(string name, params ISignalSource[] sources) : ISignalSource
{
    public string Name => name;

    public string Fingerprint { get; } = SignalFingerprint.Of(name, 1, string.Join("|", sources.Select(s => s.Fingerprint)));

    public FeedbackLabel? Score(PromptRecord prompt, string response)
    {
        foreach (var source in sources)
            if (source.Score(prompt, response) is { } label) return label;
        return null;
    }

    public async ValueTask<FeedbackLabel?> ScoreAsync(PromptRecord prompt, string response, CancellationToken cancellationToken = default)
    {
        foreach (var source in sources)
            if (await source.ScoreAsync(prompt, response, cancellationToken) is { } label) return label;
        return null;
    }
}
