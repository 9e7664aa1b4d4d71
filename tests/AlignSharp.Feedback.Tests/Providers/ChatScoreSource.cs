using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;

namespace AlignSharp.Feedback.Tests.Providers;

/// <summary>
/// A minimal model-backed signal source for the fault tests: asks the chat client to rate the response and reads
/// "Score: N" (1..5) from the answer as N/5. Real judges live in Judges/; this one only has to exercise the path.
/// </summary>
sealed partial class ChatScoreSource(IChatClient client, string identity) : ISignalSource
{
    int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public string Name => "chat-score";

    public string Fingerprint => SignalFingerprint.Of(Name, 1, identity);

    public FeedbackLabel? Score(PromptRecord prompt, string response) => ScoreAsync(prompt, response).AsTask().GetAwaiter().GetResult();

    public async ValueTask<FeedbackLabel?> ScoreAsync(PromptRecord prompt, string response, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _calls);
        var answer = await client.GetResponseAsync(
            [new ChatMessage(ChatRole.System, "Rate the response from 1 to 5. Answer 'Score: N'."),
             new ChatMessage(ChatRole.User, $"Prompt: {prompt.Text}\nResponse: {response}")],
            new ChatOptions { MaxOutputTokens = 8, Temperature = 0 }, cancellationToken);
        var match = ScorePattern().Match(answer.Text);
        if (!match.Success) throw new FeedbackException($"{Name}: no score in '{answer.Text}'");
        int score = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return new FeedbackLabel(score / 5.0, answer.Text, new Provenance(Name, SignalKind.Judge, Model: identity));
    }

    [GeneratedRegex(@"Score:\s*(\d+)")]
    private static partial Regex ScorePattern();
}
