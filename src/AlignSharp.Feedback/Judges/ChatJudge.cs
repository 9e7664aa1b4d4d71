using System.Diagnostics;
using System.Globalization;
using AlignSharp.Models.Generation;
using Microsoft.Extensions.AI;

namespace AlignSharp.Feedback.Judges;

/// <summary>A judge's raw answer: its text, the generated tokens' log-probs when the provider returned them, and the time taken.</summary>
public sealed record JudgeReply(string Text, IReadOnlyList<TokenLogprob>? Logprobs, double ElapsedMs);

/// <summary>
/// What every LLM judge shares: a Microsoft.Extensions.AI <see cref="IChatClient"/> (a local model, an OpenAI-compatible
/// endpoint, anything), the template, the request settings (temperature 0 by default), the model id (from the
/// client's <see cref="ChatClientMetadata"/> or the options) and the counters. Requests run concurrently as the
/// callers' batches ask; the client (or the provider behind it) bounds and retries them.
/// </summary>
public abstract class ChatJudge
{
    long _calls, _unparsable;

    /// <param name="client">The model to ask.</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <param name="builtInTemplate">The template used when the options give none.</param>
    /// <param name="defaultMaxTokens">Most tokens the judge may write when the options do not say.</param>
    /// <param name="usesLogprobs">Whether the judge reads verdict-token log-probs (asked for when <see cref="JudgeOptions.TopLogprobs"/> &gt; 0).</param>
    /// <param name="name">The judge's name, for errors.</param>
    /// <param name="requiredPlaceholders">Placeholders the template must contain.</param>
    protected ChatJudge(IChatClient client, JudgeOptions? options, JudgeTemplate builtInTemplate, int defaultMaxTokens, bool usesLogprobs, string name,
        params string[] requiredPlaceholders)
    {
        Client = client ?? throw new ArgumentNullException(nameof(client));
        Options = options ?? new JudgeOptions();
        Options.Validate(name);
        Template = Options.Template ?? builtInTemplate;
        Template.Validate(requiredPlaceholders);
        MaxOutputTokens = Options.MaxOutputTokens ?? defaultMaxTokens;
        TopLogprobs = usesLogprobs ? Options.TopLogprobs : 0;
        ModelId = Options.Model ?? client.GetService<ChatClientMetadata>()?.DefaultModelId
            ?? throw new FeedbackException($"{name}: the chat client does not name its model (ChatClientMetadata.DefaultModelId is empty); " +
                "set the judge's model (JudgeOptions.Model), which keys its cached verdicts");
    }

    /// <summary>The model asked.</summary>
    public IChatClient Client { get; }

    /// <summary>The settings given.</summary>
    public JudgeOptions Options { get; }

    /// <summary>The template in use.</summary>
    public JudgeTemplate Template { get; }

    /// <summary>The judge model's id, recorded in provenance and fingerprints.</summary>
    public string ModelId { get; }

    /// <summary>Most tokens the judge may write.</summary>
    public int MaxOutputTokens { get; }

    /// <summary>Alternatives per token asked for; 0 when log-probs are not asked for.</summary>
    public int TopLogprobs { get; }

    /// <summary>Requests sent to the client.</summary>
    public long Calls => Interlocked.Read(ref _calls);

    /// <summary>Answers that could not be read as a verdict.</summary>
    public long UnparsableAnswers => Interlocked.Read(ref _unparsable);

    /// <summary>
    /// The canonical text of every request setting that changes verdicts — template hash, model, temperature, token
    /// limit, log-probs asked, seed — followed by <paramref name="more"/> (the principle's hash), for the fingerprint.
    /// </summary>
    protected string Settings(string more) => string.Create(CultureInfo.InvariantCulture,
        $"template={Template.Hash}|model={ModelId}|temperature={Options.Temperature:R}|max_tokens={MaxOutputTokens}|top_logprobs={TopLogprobs}|seed={Options.Seed}|{more}");

    /// <summary>The request options: temperature, token limit, seed, model, and log-probs when the judge reads them.</summary>
    protected ChatOptions RequestOptions()
    {
        var options = new ChatOptions { Temperature = Options.Temperature, MaxOutputTokens = MaxOutputTokens, Seed = Options.Seed, ModelId = Options.Model };
        return TopLogprobs > 0 ? ChatLogprobs.Request(options, TopLogprobs) : options;
    }

    /// <summary>Sends <paramref name="messages"/> and returns the answer; the client's errors (an endpoint down past its retries) pass through.</summary>
    protected async Task<JudgeReply> AskAsync(IReadOnlyList<ChatMessage> messages, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        long start = Stopwatch.GetTimestamp();
        var response = await Client.GetResponseAsync(messages, RequestOptions(), cancellationToken).ConfigureAwait(false);
        return new JudgeReply(response.Text ?? "", ChatLogprobs.Get(response), Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }

    /// <summary>Counts an answer that could not be read.</summary>
    protected void CountUnparsable() => Interlocked.Increment(ref _unparsable);

    /// <summary>The provenance of a verdict: the judge, kind Judge, principle, model, template (id and hash), seed, fingerprint, time.</summary>
    protected Provenance Provenance(string source, string fingerprint, string? principleId, double elapsedMs) =>
        new(source, SignalKind.Judge, PrincipleId: principleId, Model: ModelId, PromptTemplate: Template.Id, Seed: Options.Seed,
            Fingerprint: fingerprint, TemplateHash: Template.Hash, CreatedAt: DateTimeOffset.UtcNow, ElapsedMs: elapsedMs);

    /// <summary>An answer as one line for a rationale: white space collapsed, at most 400 characters.</summary>
    protected static string OneLine(string text)
    {
        string line = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return line.Length <= 400 ? line : line[..399] + "…";
    }
}
