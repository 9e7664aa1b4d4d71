using System.ClientModel;
using AlignSharp.Models.Generation;
using OpenAI.Chat;

namespace AlignSharp.Serving.Tests;

/// <summary>The server through the official OpenAI .NET SDK (a real client: its request shapes, its response parsing).</summary>
public class OpenAiSdkTests
{
    /// <summary>
    /// Tests that need what the serialized placeholder of ContinuousBatcher does not do yet (top_logprobs); the real batcher
    /// (the engine part of issue 12) lifts it: delete this constant's uses when it lands.
    /// </summary>

    [Fact]
    public async Task Non_streaming_completion_is_the_greedy_continuation_of_the_rendered_chat()
    {
        await using var s = await TinyServer.StartAsync();
        var completion = (await s.Client().CompleteChatAsync([new UserChatMessage("Hello there!")],
            new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 12 })).Value;
        var reference = s.Reference("Hello there!", new GenerationOptions { Temperature = 0, MaxNewTokens = 12 });

        Assert.Equal(reference.Text, completion.Content[0].Text);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Equal(reference.FinishReason == "stop" ? ChatFinishReason.Stop : ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(TinyServer.Prompt("Hello there!").Length, completion.Usage.InputTokenCount);
        Assert.Equal(reference.Tokens.Length, completion.Usage.OutputTokenCount);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
        Assert.StartsWith("chatcmpl-", completion.Id);
        Assert.Equal(TinyServer.ModelId, completion.Model);
    }

    [Fact]
    public async Task Streaming_gives_the_same_text_then_finish_reason_and_usage()
    {
        await using var s = await TinyServer.StartAsync();
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 12 };
        var whole = (await s.Client().CompleteChatAsync([new UserChatMessage("Stream me")], options)).Value;

        var text = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in s.Client().CompleteChatStreamingAsync([new UserChatMessage("Stream me")], options))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }
        Assert.Equal(whole.Content[0].Text, text.ToString());
        Assert.Equal(whole.FinishReason, finish);
        // The SDK asks for stream_options.include_usage: the last chunk carries the counts.
        Assert.NotNull(usage);
        Assert.Equal(whole.Usage.OutputTokenCount, usage!.OutputTokenCount);
        Assert.Equal(whole.Usage.InputTokenCount, usage.InputTokenCount);
    }

    [Fact]
    public async Task Logprobs_are_the_models_token_log_probabilities()
    {
        await using var s = await TinyServer.StartAsync();
        var completion = (await s.Client().CompleteChatAsync([new UserChatMessage("Score this")],
            new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 8, IncludeLogProbabilities = true })).Value;
        var reference = s.Reference("Score this", new GenerationOptions { Temperature = 0, MaxNewTokens = 8 });

        var tokens = completion.ContentTokenLogProbabilities;
        int expected = reference.FinishReason == "stop" ? reference.Tokens.Length - 1 : reference.Tokens.Length; // the stop token has no text
        Assert.Equal(expected, tokens.Count);
        for (int t = 0; t < tokens.Count; t++)
        {
            Assert.Equal(reference.LogProbs[t], tokens[t].LogProbability, 4);
            Assert.Empty(tokens[t].TopLogProbabilities);
        }
        // The tokens' bytes spell the content exactly (a token may hold part of a character).
        var bytes = tokens.SelectMany(t => t.Utf8Bytes!.Value.ToArray()).ToArray();
        Assert.Equal(completion.Content[0].Text, System.Text.Encoding.UTF8.GetString(bytes));
    }

    [Fact]
    public async Task Top_logprobs_list_the_most_likely_alternatives_in_order()
    {
        await using var s = await TinyServer.StartAsync();
        var completion = (await s.Client().CompleteChatAsync([new UserChatMessage("Score this")],
            new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 8, IncludeLogProbabilities = true, TopLogProbabilityCount = 5 })).Value;
        Assert.NotEmpty(completion.ContentTokenLogProbabilities);
        foreach (var token in completion.ContentTokenLogProbabilities)
        {
            Assert.Equal(5, token.TopLogProbabilities.Count);
            var values = token.TopLogProbabilities.Select(a => a.LogProbability).ToArray();
            Assert.Equal(values.OrderByDescending(v => v), values);
            // Greedy: the chosen token is the most likely one.
            Assert.Equal(token.Token, token.TopLogProbabilities[0].Token);
            Assert.Equal(token.LogProbability, values[0], 4);
        }

        // Streamed, each content chunk carries its token's entry with the same alternatives.
        var streamed = new List<ChatTokenLogProbabilityDetails>();
        await foreach (var update in s.Client().CompleteChatStreamingAsync([new UserChatMessage("Score this")],
            new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 8, IncludeLogProbabilities = true, TopLogProbabilityCount = 5 }))
            streamed.AddRange(update.ContentTokenLogProbabilities);
        Assert.Equal(completion.ContentTokenLogProbabilities.Select(t => t.Token), streamed.Select(t => t.Token));
        Assert.Equal(completion.ContentTokenLogProbabilities.SelectMany(t => t.TopLogProbabilities.Select(a => a.Token)),
            streamed.SelectMany(t => t.TopLogProbabilities.Select(a => a.Token)));
    }

    [Fact]
    public async Task Stop_sequences_cut_the_text_before_them()
    {
        await using var s = await TinyServer.StartAsync();
        var free = (await s.Client().CompleteChatAsync([new UserChatMessage("Go on")],
            new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 16 })).Value.Content[0].Text;
        // A stop string from the middle of the free text: the answer ends just before its first occurrence.
        string stop = free.Substring(free.Length / 2, 2);
        Assert.False(string.IsNullOrWhiteSpace(stop), $"the free text '{free}' gives no usable stop string; pick another prompt");
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 16 };
        options.StopSequences.Add(stop);
        var cut = (await s.Client().CompleteChatAsync([new UserChatMessage("Go on")], options)).Value;
        Assert.Equal(free[..free.IndexOf(stop, StringComparison.Ordinal)], cut.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, cut.FinishReason);

        var streamed = new System.Text.StringBuilder();
        await foreach (var update in s.Client().CompleteChatStreamingAsync([new UserChatMessage("Go on")], options))
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
        Assert.Equal(cut.Content[0].Text, streamed.ToString());
    }

    [Fact]
    public async Task Seeded_sampling_is_reproducible_and_the_seed_matters()
    {
        await using var s = await TinyServer.StartAsync();
        async Task<string> Sample(long seed) => (await s.Client().CompleteChatAsync([new UserChatMessage("Tell me a story")],
            new ChatCompletionOptions { Temperature = 1.2f, TopP = 0.95f, Seed = seed, MaxOutputTokenCount = 16 })).Value.Content[0].Text;
        string first = await Sample(42);
        Assert.Equal(first, await Sample(42));
        Assert.NotEqual(first, await Sample(43));
        var reference = s.Reference("Tell me a story", new GenerationOptions { Temperature = 1.2f, TopP = 0.95f, Seed = 42, MaxNewTokens = 16 });
        Assert.Equal(reference.Text, first);
    }

    [Fact]
    public async Task Errors_reach_the_sdk_as_its_exception_with_status_and_message()
    {
        await using var s = await TinyServer.StartAsync(new ServerOptions { MaxTokens = 32 });
        var e = await Assert.ThrowsAsync<ClientResultException>(() => s.Client().CompleteChatAsync([new UserChatMessage("Hi")],
            new ChatCompletionOptions { MaxOutputTokenCount = 33 }));
        Assert.Equal(400, e.Status);
        Assert.Contains("at most 32", e.Message);
    }

    [Fact]
    public async Task The_api_key_is_required_and_checked()
    {
        await using var s = await TinyServer.StartAsync(new ServerOptions { ApiKey = "sk-test-123" });
        var ok = (await s.Client("sk-test-123").CompleteChatAsync([new UserChatMessage("Hi")], new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 3 })).Value;
        Assert.NotNull(ok.Content);
        var e = await Assert.ThrowsAsync<ClientResultException>(() => s.Client("sk-wrong").CompleteChatAsync([new UserChatMessage("Hi")]));
        Assert.Equal(401, e.Status);
    }
}
