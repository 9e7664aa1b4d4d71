using System.Globalization;
using Microsoft.Extensions.AI;

namespace AlignSharp.Feedback.Judges;

/// <summary>A judge-training example: exactly the messages a <see cref="PrincipleJudge"/> sends, and the answer it should give.</summary>
/// <param name="Messages">The judge's prompt.</param>
/// <param name="Verdict">"Yes" or "No".</param>
public sealed record JudgeExample(IReadOnlyList<ChatMessage> Messages, string Verdict);

/// <summary>
/// "Does this response follow principle P?" asked of a model, answered Yes or No (the principle-conditioned variant
/// of the Self-Rewarding judge, Yuan et al. 2024, scored as Constitutional AI's feedback model is, Bai et al. 2022).
/// Score in [0, 1]: with token log-probs, the soft label P(Yes) / (P(Yes) + P(No)) at the verdict token
/// (<see cref="VerdictProbability.YesNo"/>); without, 1 for Yes and 0 for No. An answer that is neither is an
/// unparsable label (<see cref="FeedbackLabel.Unparsable"/>), recorded, never thrown. The default template
/// (<see cref="JudgeTemplate.Principle"/>) is one short user message, so a small judge with a few hundred tokens of
/// context can be trained on <see cref="Example"/> rows and then asked exactly that.
/// </summary>
public sealed class PrincipleJudge : ChatJudge, ISignalSource
{
    /// <summary>Version of the scoring rule; part of the fingerprint.</summary>
    public const int Version = 1;

    /// <param name="client">The judge model.</param>
    /// <param name="principle">The principle in plain language.</param>
    /// <param name="principleId">Its id (the constitution's); names the judge "judge:ID". Null: "judge:" + a hash of the text.</param>
    /// <param name="options">Settings; null for the defaults (temperature 0, 5 log-prob alternatives, 8 tokens).</param>
    public PrincipleJudge(IChatClient client, string principle, string? principleId = null, JudgeOptions? options = null)
        : base(client, options, JudgeTemplate.Principle, 8, usesLogprobs: true, $"judge:{principleId ?? "principle"}", "principle", "response")
    {
        if (string.IsNullOrWhiteSpace(principle)) throw new FeedbackException($"judge:{principleId}: the principle text is empty");
        Principle = principle;
        PrincipleId = principleId ?? "p" + SignalFingerprint.Hash(principle)[..8];
        Name = $"judge:{PrincipleId}";
        Fingerprint = SignalFingerprint.Of(Name, Version, Settings($"principle={SignalFingerprint.Hash(principle)}"));
    }

    /// <summary>The principle's text.</summary>
    public string Principle { get; }

    /// <summary>The principle's id.</summary>
    public string PrincipleId { get; }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public string Fingerprint { get; }

    /// <summary>The answer a judge gives when the response follows the principle ("Yes") or not ("No").</summary>
    public static string VerdictText(bool follows) => follows ? "Yes" : "No";

    /// <summary>The messages a judge with <paramref name="template"/> (default <see cref="JudgeTemplate.Principle"/>) sends for this principle, prompt and response.</summary>
    public static IReadOnlyList<ChatMessage> Messages(string principle, PromptRecord prompt, string response, JudgeTemplate? template = null) =>
        (template ?? JudgeTemplate.Principle).Render(new JudgeInputs(prompt, response, principle));

    /// <summary>A judge-training row: the prompt this judge will send, and the verdict it should answer.</summary>
    public static JudgeExample Example(string principle, PromptRecord prompt, string response, bool follows, JudgeTemplate? template = null) =>
        new(Messages(principle, prompt, response, template), VerdictText(follows));

    /// <summary>Waits on <see cref="ScoreAsync"/>.</summary>
    public FeedbackLabel? Score(PromptRecord prompt, string response) => ScoreAsync(prompt, response).AsTask().GetAwaiter().GetResult();

    /// <summary>Asks the judge; never null (a principle judge applies to every item); unparsable answers are flagged labels.</summary>
    public async ValueTask<FeedbackLabel?> ScoreAsync(PromptRecord prompt, string response, CancellationToken cancellationToken = default)
    {
        var reply = await AskAsync(Template.Render(new JudgeInputs(prompt, response, Principle)), cancellationToken).ConfigureAwait(false);
        var provenance = Provenance(Name, Fingerprint, PrincipleId, reply.ElapsedMs);
        if (VerdictParser.YesNo(reply.Text) is not { } verdict)
        {
            CountUnparsable();
            return FeedbackLabel.UnparsableAnswer(OneLine(reply.Text), provenance);
        }
        if (VerdictProbability.YesNo(reply.Logprobs) is { } soft)
            return new FeedbackLabel(soft, string.Create(CultureInfo.InvariantCulture, $"P(yes) = {soft:0.###} from the verdict token: {OneLine(reply.Text)}"), provenance);
        return new FeedbackLabel(verdict.Value ? 1 : 0, $"{VerdictText(verdict.Value).ToLowerInvariant()}: {OneLine(reply.Text)}", provenance);
    }

    /// <summary>Scores every item, at most <paramref name="maxConcurrency"/> requests in flight.</summary>
    public ValueTask<FeedbackLabel?[]> ScoreBatchAsync(IReadOnlyList<SignalItem> items, int maxConcurrency = 1, CancellationToken cancellationToken = default) =>
        SignalBatch.ScoreAsync(this, items, maxConcurrency, cancellationToken);
}
