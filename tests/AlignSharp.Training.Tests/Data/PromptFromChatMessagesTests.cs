using AlignSharp.Training.Data;
using Microsoft.Extensions.AI;

namespace AlignSharp.Training.Tests.Data;

/// <summary>
/// <see cref="ExampleTokenizer.Prompt(IEnumerable{ChatMessage}, string)"/>: a prompt given as Microsoft.Extensions.AI
/// messages (a PromptRecord's conversation) encodes token for token as the same conversation in a dataset row.
/// </summary>
public class PromptFromChatMessagesTests
{
    [Fact]
    public void A_multi_turn_conversation_encodes_as_the_same_conversational_row()
    {
        ChatMessage[] messages =
        [
            new(ChatRole.System, "Answer with a number."),
            new(ChatRole.User, "2 + 2?"),
            new(ChatRole.Assistant, "4"),
            new(ChatRole.User, "3 + 3?"),
        ];
        var row = TextOrMessages.FromMessages(("system", "Answer with a number."), ("user", "2 + 2?"), ("assistant", "4"), ("user", "3 + 3?"));
        foreach (var encoder in new[] { TestData.Qwen(), TestData.Llama() })
        {
            var ids = encoder.Prompt(messages, "prompt p1");
            Assert.Equal(encoder.Prompt(row), ids);
            string text = encoder.Tokenizer.Decode(ids);
            Assert.Contains("Answer with a number.", text);
            Assert.True(text.IndexOf("3 + 3?", StringComparison.Ordinal) > text.IndexOf("2 + 2?", StringComparison.Ordinal), text);
        }
    }

    [Fact]
    public void Content_the_template_cannot_render_is_a_training_error_naming_the_prompt()
    {
        var image = new ChatMessage(ChatRole.User, [new DataContent(new byte[] { 1 }, "image/png")]);
        var ex = Assert.Throws<TrainingException>(() => TestData.Qwen().Prompt([image], "prompts.jsonl line 3"));
        Assert.StartsWith("prompts.jsonl line 3: messages[0] (user) holds DataContent", ex.Message);
    }
}
