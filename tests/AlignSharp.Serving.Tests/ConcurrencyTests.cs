using OpenAI.Chat;

namespace AlignSharp.Serving.Tests;

/// <summary>Continuous batching seen from the clients: sharing the model changes nobody's answer.</summary>
public class ConcurrencyTests
{
    [Fact]
    public async Task Sixteen_concurrent_clients_each_get_exactly_what_the_request_gets_alone()
    {
        // 8 slots for 16 clients: half of them wait and join the running batch as others finish.
        await using var s = await TinyServer.StartAsync(maxBatch: 8);
        var requests = Enumerable.Range(0, 16).Select(i => (
            Message: $"Client {i} asks: {new string((char)('a' + i), i % 5 + 1)}?",
            // Even clients decode greedily, odd ones sample with their own seed; lengths differ so sequences leave at different steps.
            Options: i % 2 == 0
                ? new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 12 + i }
                : new ChatCompletionOptions { Temperature = 1.1f, TopP = 0.9f, Seed = 1000 + i, MaxOutputTokenCount = 12 + i })).ToArray();

        var alone = new List<(string Text, int Tokens)>();
        foreach (var (message, options) in requests)
        {
            var c = (await s.Client().CompleteChatAsync([new UserChatMessage(message)], options)).Value;
            alone.Add((c.Content[0].Text, c.Usage.OutputTokenCount));
        }

        var together = await Task.WhenAll(requests.Select(r => Task.Run(async () =>
        {
            var c = (await s.Client().CompleteChatAsync([new UserChatMessage(r.Message)], r.Options)).Value;
            return (Text: c.Content[0].Text, Tokens: c.Usage.OutputTokenCount);
        })));
        for (int i = 0; i < requests.Length; i++) Assert.Equal(alone[i], together[i]);

        // Streamed concurrently, too.
        var streamed = await Task.WhenAll(requests.Select(r => Task.Run(async () =>
        {
            var text = new System.Text.StringBuilder();
            await foreach (var update in s.Client().CompleteChatStreamingAsync([new UserChatMessage(r.Message)], r.Options))
                foreach (var part in update.ContentUpdate) text.Append(part.Text);
            return text.ToString();
        })));
        for (int i = 0; i < requests.Length; i++) Assert.Equal(alone[i].Text, streamed[i]);
        Assert.Equal(0, s.Server.PendingSequences);
        Assert.Equal(0, s.Batcher.Running);
    }
}
