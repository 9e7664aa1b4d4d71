using AlignSharp.Feedback;
using AlignSharp.Training.Data;
using Microsoft.Extensions.AI;

namespace AlignSharp.Training.Tests.Data;

/// <summary>Prompt-only JSONL (TRL's standard and conversational forms) read as PromptRecords, extra columns as metadata.</summary>
public class PromptRecordsTests
{
    [Fact]
    public void Standard_rows_become_one_user_turn_with_their_extra_columns_as_string_metadata()
    {
        string path = TestData.TempJsonl(
            """{"prompt": "What is 6 * 7?", "answer": "42", "category": "math", "harmful": false, "difficulty": 2, "tags": ["a", "b"], "note": null}""",
            "",
            """{"id": "q-2", "prompt": "How do I pick a lock?", "harmful": true, "category": "harmful"}""");
        var set = PromptRecords.FromJsonl(path);

        Assert.False(set.Conversational);
        Assert.Equal(0, set.SkippedRows);
        Assert.Equal(2, set.Prompts.Count);
        var first = set.Prompts[0];
        Assert.Equal($"{path}:1", first.Id);
        Assert.Equal(ChatRole.User, Assert.Single(first.Messages).Role);
        Assert.Equal("What is 6 * 7?", first.Text);
        Assert.Equal("math", first.Category);
        Assert.Equal(new Dictionary<string, string> { ["answer"] = "42", ["category"] = "math", ["harmful"] = "false", ["difficulty"] = "2", ["tags"] = """["a", "b"]""" },
            first.Metadata);
        var second = set.Prompts[1];
        Assert.Equal("q-2", second.Id);
        Assert.True(second.IsHarmful);
        Assert.False(second.Metadata.ContainsKey("id"));
        // The other direction gives the string back.
        Assert.Equal("How do I pick a lock?", TrlRows.Prompt(second, conversational: false).Text);
    }

    [Fact]
    public void Conversational_rows_keep_every_turn()
    {
        string path = TestData.TempJsonl(
            """{"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}], "solution": "4", "id": 7}""",
            """{"prompt": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Name a colour."}]}""");
        var set = PromptRecords.FromJsonl(path);

        Assert.True(set.Conversational);
        var first = set.Prompts[0];
        Assert.Equal("7", first.Id);
        Assert.Equal([ChatRole.System, ChatRole.User], first.Messages.Select(m => m.Role));
        Assert.Equal("2+2?", first.Text);
        Assert.Equal("4", first.Get("solution"));
        Assert.Equal("", first.Category);
        Assert.Equal(3, set.Prompts[1].Messages.Count);
        Assert.Equal("Name a colour.", set.Prompts[1].Text);
    }

    [Theory]
    [InlineData("""{"prompt": 5}""", "\"prompt\" must be a string or a list of messages (got number)")]
    [InlineData("""{"question": "hi"}""", "no dataset keys found (keys: question)")]
    [InlineData("""{"prompt": []}""", "\"prompt\" is an empty list")]
    [InlineData("""{"prompt": [{"role": "robot", "content": "x"}]}""", "\"prompt\"[0].role must be one of system, user, assistant, tool (got \"robot\")")]
    [InlineData("""{"prompt": [{"role": "assistant", "content": null, "tool_calls": []}]}""", "\"prompt\"[0] has no text content (only tool_calls)")]
    [InlineData("""{"prompt": [{"role": "user", "content": "x"}]}""", "\"prompt\" is a list of messages but earlier rows hold a string; write every prompt in one form")]
    [InlineData("""{"prompt": "again", "id": "a"}""", "id \"a\" is also the id of")]
    public void A_bad_row_is_one_line_naming_file_and_line_or_is_skipped_and_counted(string bad, string expected)
    {
        string path = TestData.TempJsonl("""{"prompt": "fine", "id": "a"}""", bad, """{"prompt": "also fine"}""");

        var e = Assert.Throws<TrainingException>(() => PromptRecords.FromJsonl(path));
        Assert.StartsWith($"{path}:2: ", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain("\n", e.Message);

        var set = PromptRecords.FromJsonl(path, skipBadRows: true);
        Assert.Equal(["a", $"{path}:3"], set.Prompts.Select(p => p.Id));
        Assert.Equal(1, set.SkippedRows);
        Assert.Contains(expected, Assert.Single(set.SkipReasons));
    }

    [Fact]
    public void A_file_with_no_prompts_or_no_file_is_refused()
    {
        string empty = TestData.TempJsonl("""{"prompt": 1}""");
        var e = Assert.Throws<TrainingException>(() => PromptRecords.FromJsonl(empty, skipBadRows: true));
        Assert.StartsWith($"{empty}: no prompts; first problem: {empty}:1: \"prompt\" must be", e.Message);
        e = Assert.Throws<TrainingException>(() => PromptRecords.FromJsonl("nope.jsonl"));
        Assert.Equal("nope.jsonl: dataset file not found", e.Message);
    }

    [Fact]
    public void Records_written_as_prompt_only_rows_read_back()
    {
        var record = new PromptRecord("x", [new ChatMessage(ChatRole.System, "s"), new ChatMessage(ChatRole.User, "u")], "", new Dictionary<string, string>());
        string path = TestData.TempJsonl(TrlJsonlWriter.ToJson(TrlRows.PromptOnly(record)));
        var back = Assert.Single(PromptRecords.FromJsonl(path).Prompts);
        Assert.Equal(record.Messages.Select(m => (m.Role, m.Text)), back.Messages.Select(m => (m.Role, m.Text)));
    }
}
