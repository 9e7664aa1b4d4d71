using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Generation;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Models.Transformers;
using Microsoft.Extensions.AI;

namespace AlignSharp.Models.Tests.Generation;

public class GenerationTests
{
    private static readonly Tokenizer Qwen2 = Tokenizer.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers", "qwen2"));

    private static TransformerModel Model(Architecture arch = Architecture.Llama, ulong seed = 3) =>
        TransformerModel.Create(ModelPresets.Get("tiny", arch) with { VocabSize = Qwen2.VocabSize, EosTokenIds = [] }, seed);

    [Theory]
    [InlineData(Architecture.Llama)]
    [InlineData(Architecture.Gpt2)]
    public void Batched_left_padded_generation_equals_one_at_a_time(Architecture arch)
    {
        using var model = Model(arch);
        var generator = new Generator(model);
        int[][] prompts = [[5, 9, 2, 7, 1, 3], [8], [4, 4, 6]];
        var options = new GenerationOptions { MaxNewTokens = 12, Temperature = 0 };
        var batched = generator.Generate(prompts, options);
        for (int i = 0; i < prompts.Length; i++)
        {
            var single = generator.Generate([prompts[i]], options)[0];
            Assert.Equal(single.Tokens, batched[i].Tokens);
            for (int t = 0; t < single.LogProbs.Length; t++) Assert.Equal(single.LogProbs[t], batched[i].LogProbs[t], 4);
        }
    }

    [Fact]
    public void Sampling_is_reproducible_by_seed_and_top_k_1_is_greedy()
    {
        using var model = Model();
        var generator = new Generator(model);
        int[][] prompt = [[5, 9, 2]];
        var sample = new GenerationOptions { MaxNewTokens = 20, Temperature = 1.5f, TopP = 0.95f, MinP = 0.01f, RepetitionPenalty = 1.2f, Seed = 42 };
        Assert.Equal(generator.Generate(prompt, sample)[0].Tokens, generator.Generate(prompt, sample)[0].Tokens);
        Assert.NotEqual(generator.Generate(prompt, sample)[0].Tokens, generator.Generate(prompt, sample with { Seed = 43 })[0].Tokens);
        var greedy = generator.Generate(prompt, new GenerationOptions { MaxNewTokens = 20, Temperature = 0 })[0];
        Assert.Equal(greedy.Tokens, generator.Generate(prompt, sample with { TopK = 1, RepetitionPenalty = 1f })[0].Tokens);
        Assert.All(greedy.LogProbs, lp => Assert.True(lp <= 0f));
    }

    [Fact]
    public void Stops_at_stop_tokens_and_stop_strings()
    {
        using var model = Model();
        var generator = new Generator(model, Qwen2);
        var free = generator.Generate([[5, 9, 2]], new GenerationOptions { MaxNewTokens = 10, Temperature = 0 })[0];
        Assert.Equal("length", free.FinishReason);
        var stopped = generator.Generate([[5, 9, 2]], new GenerationOptions { MaxNewTokens = 10, Temperature = 0, StopTokenIds = [free.Tokens[3]] })[0];
        Assert.Equal("stop", stopped.FinishReason);
        Assert.Equal(free.Tokens[..4], stopped.Tokens);
        string text = free.Text;
        string stop = text.Substring(text.Length / 2, Math.Min(2, text.Length - text.Length / 2));
        if (stop.Length > 0 && !string.IsNullOrWhiteSpace(stop))
        {
            var cut = generator.Generate([[5, 9, 2]], new GenerationOptions { MaxNewTokens = 10, Temperature = 0, StopStrings = [stop] })[0];
            Assert.Equal("stop", cut.FinishReason);
            Assert.Equal(text[..text.IndexOf(stop, StringComparison.Ordinal)], cut.Text);
        }
    }

    [Fact]
    public async Task Streaming_yields_the_same_text()
    {
        using var model = Model();
        var generator = new Generator(model, Qwen2);
        var options = new GenerationOptions { MaxNewTokens = 15, Temperature = 0 };
        var full = generator.Generate([[5, 9, 2]], options)[0].Text;
        var pieces = new List<string>();
        await foreach (var piece in generator.StreamAsync([5, 9, 2], options)) pieces.Add(piece);
        Assert.Equal(full, string.Concat(pieces));
        Assert.True(pieces.Count > 1);
    }

    [Fact]
    public async Task Local_model_is_an_IChatClient()
    {
        using var model = Model();
        using IChatClient client = new LocalChatClient(model, Qwen2, BuiltInTemplates.Get("chatml"), new ChatTemplateOptions { EosToken = "<|im_end|>" });
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.System, "Be brief."), new ChatMessage(ChatRole.User, "Hello!")],
            new ChatOptions { MaxOutputTokens = 6, Temperature = 0 });
        Assert.Equal(ChatRole.Assistant, response.Messages[0].Role);
        Assert.Equal(6, response.Usage!.OutputTokenCount);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        var streamed = new List<string>();
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.System, "Be brief."), new ChatMessage(ChatRole.User, "Hello!")],
            new ChatOptions { MaxOutputTokens = 6, Temperature = 0 })) streamed.Add(update.Text);
        Assert.Equal(response.Text, string.Concat(streamed));
        Assert.NotNull(client.GetService<ChatClientMetadata>());
    }
}
