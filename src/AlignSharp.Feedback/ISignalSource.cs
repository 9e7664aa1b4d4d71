namespace AlignSharp.Feedback;

/// <summary>
/// An automated alignment signal: "how good is this response to this prompt, and why?".
/// Returns null when the source does not apply to the prompt (a numeric verifier on a prompt with no numeric answer),
/// so compositions and pair builders can skip it instead of reading a made-up score.
/// </summary>
public interface ISignalSource
{
    /// <summary>Stable name, recorded in <see cref="Provenance.Source"/> and used as the key in composite <see cref="FeedbackLabel.Parts"/>.</summary>
    string Name { get; }

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
}
