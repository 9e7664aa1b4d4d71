using AlignSharp.Alignment.Environments.DemoWorld;
using AlignSharp.Alignment.Pipelines;
using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Generation;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Training;
using AlignSharp.Training.Data;
using Microsoft.Extensions.AI;

namespace AlignSharp.Alignment.Tests;

/// <summary>A tiny judge trained end to end on the world's judging data, and how its verdicts are read.</summary>
public class JudgeTrainingTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-judge-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    private static readonly AssistantWorld World = AssistantWorld.Generate(new WorldOptions(SftConversations: 300, TrainPrompts: 20, EvalPrompts: 20));

    private static JudgeTrainingOptions Tiny => new()
    {
        TrainExamplesPerPrinciple = 24, TestExamplesPerPrinciple = 10, Principles = ["refuse_harmful", "help_benign"], HiddenSize = 16, Layers = 1, Heads = 2, KvHeads = 1,
        IntermediateSize = 32, MaxLength = 192, Epochs = 1, BatchSize = 8,
    };

    /// <summary>A small BPE on the world's corpus and judge messages, with the ChatML template, as the demo's tokenizer stage makes it.</summary>
    private string Tokenizer()
    {
        string folder = Path.Combine(_dir, "tokenizer");
        var judging = WorldJudging.Generate(World, WorldJudgingTests.Principles(), new JudgingOptions(20));
        var texts = World.Sft.SelectMany(s => new[] { s.Prompt.Text + "\n", s.Response + "\n" }).Concat(JudgeTraining.TokenizerTexts(judging));
        var tokenizer = BpeTrainer.Train(texts, new BpeTrainerOptions(400, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], 2, TokenizerStyle.Llama3));
        tokenizer.Save(folder);
        new TokenizerConfig { EosToken = "<|im_end|>", PadToken = "<|endoftext|>", ChatTemplate = BuiltInTemplates.GetSource("chatml"), ModelMaxLength = 192 }.Save(folder, tokenizer);
        return folder;
    }

    [Fact]
    public void A_trained_judge_is_saved_with_its_data_and_measured_per_principle_and_case()
    {
        string tokenizer = Tokenizer();
        var result = JudgeTraining.Train(World, WorldJudgingTests.Principles(), tokenizer, Path.Combine(_dir, "judge"), Tiny);
        using var judge = result.Model;
        Assert.True(File.Exists(Path.Combine(_dir, "judge", "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(_dir, "judge", "tokenizer_config.json")));
        Assert.Equal(48, File.ReadLines(Path.Combine(_dir, "judging_train.jsonl")).Count());
        Assert.Contains("\"content\":\"Principle: When a request would help someone cause harm", File.ReadLines(Path.Combine(_dir, "judging_train.jsonl")).First());
        Assert.Equal(48, result.TrainExamples);
        Assert.InRange(result.LongestExample, 20, 192);
        Assert.Equal(20, result.Test.Items.Count);
        Assert.All(result.Test.Items, i => Assert.InRange(i.PYes, 0, 1));
        var table = result.Test.Table();
        Assert.Contains(table, r => r is { Principle: "refuse_harmful", Case: "all", Items: 10 });
        Assert.Contains(table, r => r is { Principle: "help_benign", Case: "all", Items: 10 });
        Assert.Contains(table, r => r is { Principle: "all", Case: "all", Items: 20 });
        var text = new StringWriter();
        result.Test.WriteTable(text);
        Assert.Contains("harmful/misaligned", text.ToString());
    }

    [Fact]
    public async Task Verdicts_read_from_one_batched_pass_match_each_prompt_alone_the_generators_greedy_token_and_the_saved_folders_chat_reply()
    {
        string tokenizer = Tokenizer();
        var result = JudgeTraining.Train(World, WorldJudgingTests.Principles(), tokenizer, Path.Combine(_dir, "judge"), Tiny);
        using var judge = result.Model;
        var encoder = ExampleTokenizer.FromFolder(tokenizer);
        var items = result.Test.Items.Select(i => i.Example).ToList();
        var alone = JudgeTraining.Evaluate(judge, encoder, items, batchSize: 1);
        for (int i = 0; i < items.Count; i++) Assert.Equal(alone.Items[i].PYes, result.Test.Items[i].PYes, 4);

        // The greedy verdict is the token the generator (the serving path) writes first.
        var generator = new Generator(judge, encoder.Tokenizer);
        foreach (var item in alone.Items.Take(6))
        {
            var prompt = encoder.Prompt([new ChatMessage(ChatRole.User, WorldJudging.JudgeMessage(item.Example))]);
            var first = generator.Generate([prompt], new GenerationOptions { MaxNewTokens = 1, Temperature = 0 })[0].Tokens[0];
            string expected = first == JudgeTraining.VerdictToken(encoder, "Yes") ? "Yes" : first == JudgeTraining.VerdictToken(encoder, "No") ? "No" : encoder.Tokenizer.Decode([first], skipSpecialTokens: false);
            Assert.Equal(expected, item.Greedy);
        }
        Assert.NotEqual(JudgeTraining.VerdictToken(encoder, "Yes"), JudgeTraining.VerdictToken(encoder, "No"));

        // The saved folder is a chat model (what `alignsharp serve` loads): its greedy reply starts with the same verdict.
        using var client = LocalChatClient.FromFolder(Path.Combine(_dir, "judge"));
        foreach (var item in alone.Items.Take(4))
        {
            var reply = await client.GetResponseAsync([new ChatMessage(ChatRole.User, WorldJudging.JudgeMessage(item.Example))], new ChatOptions { Temperature = 0, MaxOutputTokens = 3 });
            // A special token (an early <|im_end|> of this barely trained judge) is not part of the reply's text.
            Assert.StartsWith(item.Greedy.StartsWith("<|", StringComparison.Ordinal) ? "" : item.Greedy, reply.Text);
        }
    }

    [Fact]
    public void An_example_longer_than_max_length_or_an_unknown_principle_is_a_clear_error()
    {
        string tokenizer = Tokenizer();
        var e = Assert.Throws<TrainingException>(() => JudgeTraining.Train(World, WorldJudgingTests.Principles(), tokenizer, Path.Combine(_dir, "judge"), Tiny with { MaxLength = 24 }));
        Assert.Contains("max_length 24", e.Message);
        e = Assert.Throws<TrainingException>(() => JudgeTraining.Train(World, WorldJudgingTests.Principles(), tokenizer, Path.Combine(_dir, "judge"), Tiny with { Principles = ["be_kind"] }));
        Assert.Contains("'be_kind' is not a principle", e.Message);
    }
}
