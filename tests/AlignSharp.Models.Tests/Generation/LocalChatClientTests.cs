using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Generation;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Models.Transformers;
using Microsoft.Extensions.AI;

namespace AlignSharp.Models.Tests.Generation;

/// <summary>The local chat client runs its calls through a continuous batcher: concurrent calls equal sequential ones, and token ids and log-probs come back.</summary>
public class LocalChatClientTests
{
    private static readonly Tokenizer Qwen2 = Tokenizer.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers", "qwen2"));

    private static TransformerModel Model() =>
        TransformerModel.Create(ModelPresets.Get("tiny", Architecture.Llama) with { VocabSize = Qwen2.VocabSize, EosTokenIds = [] }, seed: 5);

    private static LocalChatClient Client(TransformerModel model, int maxBatch = 16) =>
        new(model, Qwen2, BuiltInTemplates.Get("chatml"), new ChatTemplateOptions { EosToken = "<|im_end|>" }, maxBatch: maxBatch);

    private static (ChatMessage[] Messages, ChatOptions Options) Call(int i) => (
        [new ChatMessage(ChatRole.System, "Be brief."), new ChatMessage(ChatRole.User, $"Question {i}: {new string('x', i)}?")],
        new ChatOptions { MaxOutputTokens = 4 + i % 7, Temperature = i % 2 == 0 ? 0 : 0.9f, Seed = 100 + i });

    [Fact]
    public async Task Concurrent_calls_equal_sequential_calls()
    {
        using var model = Model();
        var sequential = new List<ChatResponse>();
        using (var one = Client(model, maxBatch: 1))
            for (int i = 0; i < 8; i++)
            {
                var (messages, options) = Call(i);
                sequential.Add(await one.GetResponseAsync(messages, options));
            }
        using var client = Client(model);
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
        {
            var (messages, options) = Call(i);
            return client.GetResponseAsync(messages, options);
        })));
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(sequential[i].Text, concurrent[i].Text);
            var ids = Assert.IsType<int[]>(concurrent[i].AdditionalProperties![LocalChatClient.TokenIdsKey]);
            Assert.Equal((int[])sequential[i].AdditionalProperties![LocalChatClient.TokenIdsKey]!, ids);
            Assert.Equal(ids.Length, concurrent[i].Usage!.OutputTokenCount);
            var prompt = Assert.IsType<int[]>(concurrent[i].AdditionalProperties![LocalChatClient.PromptTokenIdsKey]);
            Assert.Equal(prompt.Length, concurrent[i].Usage!.InputTokenCount);
            Assert.StartsWith("chatcmpl-", concurrent[i].ResponseId);
            Assert.Null(ChatLogprobs.Get(concurrent[i])); // not asked for
        }
        Assert.Equal(0, client.Batcher.Running);
    }

    [Fact]
    public async Task Logprobs_come_back_when_asked_with_each_tokens_own_text()
    {
        using var model = Model();
        using var client = Client(model);
        var (messages, options) = Call(3);
        var response = await client.GetResponseAsync(messages, ChatLogprobs.Request(options, 3));
        var logprobs = ChatLogprobs.Get(response);
        Assert.NotNull(logprobs);
        var ids = (int[])response.AdditionalProperties![LocalChatClient.TokenIdsKey]!;
        Assert.Equal(ids.Length, logprobs.Count);
        for (int t = 0; t < ids.Length; t++)
        {
            Assert.Equal(Qwen2.Decode([ids[t]], skipSpecialTokens: false), logprobs[t].Token);
            Assert.True(logprobs[t].Logprob <= 0);
            Assert.Equal(3, logprobs[t].Top!.Count);
            Assert.True(logprobs[t].Top![0].Logprob >= logprobs[t].Logprob); // the best alternative is at least as likely
        }
        // Asking with k = 0 gives the tokens' log-probs without alternatives; the text is the same as without asking.
        var plain = await client.GetResponseAsync(messages, options);
        var zero = await client.GetResponseAsync(messages, ChatLogprobs.Request(options, 0));
        Assert.Equal(plain.Text, response.Text);
        Assert.All(ChatLogprobs.Get(zero)!, l => Assert.Null(l.Top));
    }

    [Fact]
    public async Task Streaming_updates_concatenate_to_the_response_and_end_with_the_finish_reason()
    {
        using var model = Model();
        using var client = Client(model);
        var (messages, options) = Call(6);
        var response = await client.GetResponseAsync(messages, options);
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(messages, options)) updates.Add(update);
        Assert.Equal(response.Text, string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(response.FinishReason, updates[^1].FinishReason);
        Assert.Equal(response.Usage!.OutputTokenCount, updates[^1].Contents.OfType<UsageContent>().Single().Details.OutputTokenCount);
        Assert.Single(updates.Select(u => u.ResponseId).Distinct());
    }
}
