using System.Globalization;
using Microsoft.Extensions.AI;

namespace AlignSharp.Feedback.Judges;

/// <summary>
/// The additive 5-point rubric of Self-Rewarding Language Models (Yuan et al. 2024, "Self-Rewarding Language Models",
/// Fig. 2) asked of a model: one point per criterion met, so 0–5 points; the label's score is points / 5 in [0, 1],
/// the points in <see cref="FeedbackLabel.Parts"/>["points"] and the judge's justification in the rationale. When the
/// prompt's metadata carries a reference answer ("reference"), the prompt includes it (reference-guided grading).
/// An answer without a readable score in 0–5 is an unparsable label, recorded, never thrown.
/// </summary>
public sealed class PointwiseJudge : ChatJudge, ISignalSource
{
    /// <summary>Version of the scoring rule; part of the fingerprint.</summary>
    public const int Version = 1;

    /// <summary>The top of the scale.</summary>
    public const int MaxPoints = 5;

    /// <param name="client">The judge model.</param>
    /// <param name="options">Settings; null for the defaults (temperature 0, 320 tokens, <see cref="JudgeTemplate.Rubric"/>).</param>
    /// <param name="name">The source's name (default "judge:rubric").</param>
    public PointwiseJudge(IChatClient client, JudgeOptions? options = null, string name = "judge:rubric")
        : base(client, options, JudgeTemplate.Rubric, 320, usesLogprobs: false, name, "response")
    {
        Name = name;
        Fingerprint = SignalFingerprint.Of(name, Version, Settings($"scale=0-{MaxPoints}"));
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public string Fingerprint { get; }

    /// <summary>The messages this judge sends for a prompt and response.</summary>
    public IReadOnlyList<ChatMessage> Messages(PromptRecord prompt, string response) => Template.Render(new JudgeInputs(prompt, response));

    /// <summary>Waits on <see cref="ScoreAsync"/>.</summary>
    public FeedbackLabel? Score(PromptRecord prompt, string response) => ScoreAsync(prompt, response).AsTask().GetAwaiter().GetResult();

    /// <summary>Asks the judge; never null; unparsable answers are flagged labels.</summary>
    public async ValueTask<FeedbackLabel?> ScoreAsync(PromptRecord prompt, string response, CancellationToken cancellationToken = default)
    {
        var reply = await AskAsync(Messages(prompt, response), cancellationToken).ConfigureAwait(false);
        var provenance = Provenance(Name, Fingerprint, null, reply.ElapsedMs);
        if (VerdictParser.Score(reply.Text, 0, MaxPoints) is not { } points)
        {
            CountUnparsable();
            return FeedbackLabel.UnparsableAnswer(OneLine(reply.Text), provenance);
        }
        return new FeedbackLabel(points.Value / MaxPoints,
            string.Create(CultureInfo.InvariantCulture, $"{points.Value:0.##}/{MaxPoints}: {OneLine(reply.Text)}"), provenance,
            new Dictionary<string, double> { ["points"] = points.Value });
    }

    /// <summary>Scores every item, at most <paramref name="maxConcurrency"/> requests in flight.</summary>
    public ValueTask<FeedbackLabel?[]> ScoreBatchAsync(IReadOnlyList<SignalItem> items, int maxConcurrency = 1, CancellationToken cancellationToken = default) =>
        SignalBatch.ScoreAsync(this, items, maxConcurrency, cancellationToken);
}
