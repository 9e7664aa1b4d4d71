namespace AlignSharp.Feedback;

/// <summary>One response to score: the prompt and the response text.</summary>
public readonly record struct SignalItem(PromptRecord Prompt, string Response);

/// <summary>
/// An automated alignment signal: "how good is this response to this prompt, and why?".
/// Returns null when the source does not apply to the prompt (a numeric verifier on a prompt with no numeric answer),
/// so compositions and pair builders can skip it instead of reading a made-up score.
/// Sources are async-first and batched: pipelines call <see cref="ScoreBatchAsync"/> over many items, and a source
/// that calls a model overrides it (or <see cref="ScoreAsync"/>) to run requests concurrently.
/// </summary>
public interface ISignalSource
{
    /// <summary>Stable name, recorded in <see cref="Provenance.Source"/> and used as the key in composite <see cref="FeedbackLabel.Parts"/>.</summary>
    string Name { get; }

    /// <summary>
    /// Name + settings + version (<see cref="SignalFingerprint.Of"/>): equal fingerprints score every item equally, so a
    /// cache (the feedback store) may answer for the source. A source whose behaviour changes must change its version.
    /// </summary>
    string Fingerprint { get; }

    /// <summary>Scores one response; null when the source does not apply to this prompt.</summary>
    FeedbackLabel? Score(PromptRecord prompt, string response);

    /// <summary>
    /// Asynchronous form for sources that call a model (LLM judges). Programmatic sources keep this default, which
    /// runs <see cref="Score"/> synchronously; model-backed sources override it and implement <see cref="Score"/> by waiting on it.
    /// </summary>
    ValueTask<FeedbackLabel?> ScoreAsync(PromptRecord prompt, string response, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Score(prompt, response));
    }

    /// <summary>Scores many items, at most <paramref name="maxConcurrency"/> at a time; labels in the items' order.</summary>
    ValueTask<FeedbackLabel?[]> ScoreBatchAsync(IReadOnlyList<SignalItem> items, int maxConcurrency = 1, CancellationToken cancellationToken = default) =>
        SignalBatch.ScoreAsync(this, items, maxConcurrency, cancellationToken);
}
