using AlignSharp.Models.Transformers;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;
using AlignSharp.Training.Tests.Data;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Training.Tests.Trainers;

/// <summary>
/// SFT data in which every label is masked would train at loss 0 and report success; the trainer refuses it with the
/// row count and the likely cause, so library callers get the check as the CLI does.
/// </summary>
public class SftLearnableTokensTests
{
    private static readonly ExampleTokenizer Qwen = TestData.Qwen();

    private static SftTrainer Trainer(TrainingArguments args, IReadOnlyList<SftExample> examples)
    {
        var config = ModelPresets.Get("tiny", Architecture.Llama) with { VocabSize = Qwen.Tokenizer.VocabSize };
        return new SftTrainer(args, new FullCausalLm(TransformerModel.Create(config, seed: 1)), examples, Qwen.PadId, Qwen.EosId);
    }

    private static List<SftExample> Rows(string[] lines, SftOptions options)
    {
        string path = TestData.TempJsonl(lines);
        try { return new JsonlDataset(path).Select(r => Qwen.Sft(r, options)).ToList(); }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Conversations_without_assistant_tokens_under_assistant_only_loss_are_refused()
    {
        var examples = Rows([
            """{"messages": [{"role": "user", "content": "Hello"}]}""",
            """{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]}""",
        ], new SftOptions { AssistantOnlyLoss = true });
        var args = new TrainingArguments { Model = "m", Dataset = "chats.jsonl", AssistantOnlyLoss = true, MaxSteps = 1 };
        var e = Assert.Throws<TrainingException>(() => Trainer(args, examples));
        Assert.Contains("none of the 2 rows has a token to learn from", e.Message);
        Assert.Contains("assistant_only_loss", e.Message);
        Assert.Contains("{% generation %}", e.Message);
        Assert.StartsWith("chats.jsonl: ", e.Message);
    }

    [Fact]
    public void Completions_cut_off_by_max_length_are_refused_naming_max_length()
    {
        var examples = Rows([
            """{"prompt": "A long prompt with many words in it before the answer", "completion": " yes"}""",
        ], new SftOptions { MaxLength = 4, CompletionOnlyLoss = true });
        var args = new TrainingArguments { Model = "m", Dataset = "pc.jsonl", MaxLength = 4, MaxSteps = 1 };
        var e = Assert.Throws<TrainingException>(() => Trainer(args, examples));
        Assert.Contains("none of the 1 rows", e.Message);
        Assert.Contains("completion_only_loss", e.Message);
        Assert.Contains("max_length 4", e.Message);
    }

    [Fact]
    public void One_row_with_a_learnable_token_is_enough()
    {
        var examples = Rows([
            """{"messages": [{"role": "user", "content": "Hello"}]}""",
            """{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}""",
        ], new SftOptions { AssistantOnlyLoss = true });
        var args = new TrainingArguments { Model = "m", Dataset = "chats.jsonl", AssistantOnlyLoss = true, MaxSteps = 1 };
        using var trainer = Trainer(args, examples);
    }
}
