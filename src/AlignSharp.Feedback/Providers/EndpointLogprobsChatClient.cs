using AlignSharp.Models.Generation;
using Microsoft.Extensions.AI;
using OpenAI.Chat;

namespace AlignSharp.Feedback.Providers;

/// <summary>
/// Carries <see cref="ChatLogprobs"/> across the OpenAI chat-completions API, whose request and response have fields
/// for them that <see cref="IChatClient"/> lacks: a request asking for k alternatives (<see cref="ChatLogprobs.Requested"/>)
/// is sent with <c>logprobs: true, top_logprobs: k</c> (through <see cref="ChatOptions.RawRepresentationFactory"/>,
/// on top of any factory the caller set), and the response's <c>choices[0].logprobs.content</c> comes back as
/// <see cref="TokenLogprob"/>s through <see cref="ChatLogprobs.Set"/>. Non-streaming calls only: a streamed answer
/// arrives without them.
/// </summary>
public sealed class EndpointLogprobsChatClient(IChatClient inner) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (ChatLogprobs.Requested(options) is not { } top)
            return await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        var response = await base.GetResponseAsync(messages, WithLogprobs(options!, top), cancellationToken).ConfigureAwait(false);
        if (response.RawRepresentation is ChatCompletion { ContentTokenLogProbabilities.Count: > 0 } completion)
            ChatLogprobs.Set(response, completion.ContentTokenLogProbabilities
                .Select(t => new TokenLogprob(t.Token, t.LogProbability,
                    top == 0 ? null : t.TopLogProbabilities.Select(a => new TokenLogprob(a.Token, a.LogProbability)).ToList()))
                .ToList());
        return response;
    }

    /// <summary>A copy of <paramref name="options"/> whose SDK request options ask for log-probs with <paramref name="top"/> alternatives.</summary>
    static ChatOptions WithLogprobs(ChatOptions options, int top)
    {
        var copy = options.Clone();
        var callerFactory = options.RawRepresentationFactory;
        copy.RawRepresentationFactory = client =>
        {
            var request = callerFactory?.Invoke(client) as ChatCompletionOptions ?? new ChatCompletionOptions();
            request.IncludeLogProbabilities = true;
            if (top > 0) request.TopLogProbabilityCount = top;
            return request;
        };
        // The request key is ours, not the API's: keep it out of the request body.
        if (copy.AdditionalProperties is { } extra)
        {
            copy.AdditionalProperties = new AdditionalPropertiesDictionary(extra);
            copy.AdditionalProperties.Remove(ChatLogprobs.RequestKey);
        }
        return copy;
    }
}
