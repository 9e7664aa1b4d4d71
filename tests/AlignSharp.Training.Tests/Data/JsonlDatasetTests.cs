using AlignSharp.Training.Data;

namespace AlignSharp.Training.Tests.Data;

public class JsonlDatasetTests
{
    [Theory]
    [InlineData("lm_text.jsonl", DatasetKind.LanguageModeling, false, 2)]
    [InlineData("lm_messages.jsonl", DatasetKind.LanguageModeling, true, 2)]
    [InlineData("prompt_completion.jsonl", DatasetKind.PromptCompletion, false, 2)]
    [InlineData("prompt_completion_chat.jsonl", DatasetKind.PromptCompletion, true, 1)]
    [InlineData("preference.jsonl", DatasetKind.Preference, false, 2)]
    [InlineData("preference_chat.jsonl", DatasetKind.Preference, true, 1)]
    [InlineData("kto.jsonl", DatasetKind.UnpairedPreference, false, 3)]
    [InlineData("kto_chat.jsonl", DatasetKind.UnpairedPreference, true, 2)]
    public void Detects_the_format_from_the_keys(string file, DatasetKind kind, bool conversational, int rows)
    {
        var data = new JsonlDataset(TestData.File(file));
        var list = data.ToList();
        Assert.Equal(rows, list.Count);
        Assert.Equal(kind, data.Kind);
        Assert.Equal(kind, JsonlDataset.DetectKind(TestData.File(file)));
        Assert.All(list, r => Assert.Equal(kind, r.Kind));
        Assert.All(list, r => Assert.Equal(conversational, r.IsConversational));
    }

    [Fact]
    public void Rows_carry_their_fields_and_line_numbers_and_extra_keys_are_ignored()
    {
        var rows = JsonlDataset.ReadAll(TestData.File("lm_text.jsonl")).Cast<LanguageModelingRow>().ToList();
        Assert.Equal("The sky is blue.", rows[0].Content.Text);
        Assert.EndsWith("lm_text.jsonl:3", rows[1].Origin);   // line 2 is blank

        var pref = (PreferenceRow)JsonlDataset.ReadAll(TestData.File("preference.jsonl"))[0];
        Assert.Equal(("The sky is", " blue.", " green."), (pref.Prompt.Text, pref.Chosen.Text, pref.Rejected.Text));
        Assert.False(pref.PromptWasImplicit);

        var kto = JsonlDataset.ReadAll(TestData.File("kto.jsonl")).Cast<UnpairedPreferenceRow>().ToList();
        Assert.Equal([true, false, true], kto.Select(r => r.Label));
    }

    [Fact]
    public void Implicit_prompt_is_the_shared_prefix_of_chosen_and_rejected()
    {
        var rows = JsonlDataset.ReadAll(TestData.File("preference_implicit.jsonl")).Cast<PreferenceRow>().ToList();
        var chat = rows[0];
        Assert.True(chat.PromptWasImplicit);
        Assert.Single(chat.Prompt.MessageList);
        Assert.Equal("user", chat.Prompt.MessageList[0].GetProperty("role").GetString());
        Assert.Equal("It is blue.", Assert.Single(chat.Chosen.MessageList).GetProperty("content").GetString());
        Assert.Equal("It is green.", Assert.Single(chat.Rejected.MessageList).GetProperty("content").GetString());

        var text = rows[1];   // TRL's extract_prompt: the space before the first difference stays with the completions
        Assert.Equal(("The sky is", " blue.", " green."), (text.Prompt.Text, text.Chosen.Text, text.Rejected.Text));
    }

    [Theory]
    [InlineData("""{"prompt": "a", "chosen": 3, "rejected": "b"}""", "\"chosen\" must be a string or a list of messages (got number)")]
    [InlineData("""{"prompt": "a", "chosen": "x" """, "not valid JSON")]
    [InlineData("""[1, 2]""", "each line must hold one JSON object (got list)")]
    [InlineData("""{"prompt": "a", "chosen": "b"}""", "\"rejected\" is missing")]
    [InlineData("""{"prompt": "Hi", "completion": " there"}""", "\"chosen\" is missing: a preference")]
    [InlineData("""{"prompt": [], "chosen": [{"role": "assistant", "content": "x"}], "rejected": [{"role": "assistant", "content": "y"}]}""", "\"prompt\" is an empty list")]
    [InlineData("""{"prompt": [{"role": "bot", "content": "x"}], "chosen": [{"role": "assistant", "content": "x"}], "rejected": [{"role": "assistant", "content": "y"}]}""", "\"prompt\"[0].role must be one of system, user, assistant, tool (got \"bot\")")]
    [InlineData("""{"prompt": [{"role": "user"}], "chosen": [{"role": "assistant", "content": "x"}], "rejected": [{"role": "assistant", "content": "y"}]}""", "\"prompt\"[0].content is missing")]
    [InlineData("""{"prompt": [{"role": "user", "content": 5}], "chosen": [{"role": "assistant", "content": "x"}], "rejected": [{"role": "assistant", "content": "y"}]}""", "\"prompt\"[0].content must be a string (got number)")]
    [InlineData("""{"prompt": "a", "chosen": [{"role": "assistant", "content": "x"}], "rejected": [{"role": "assistant", "content": "y"}]}""", "\"prompt\" is a string but \"chosen\" is a list of messages")]
    [InlineData("""{"chosen": [{"role": "assistant", "content": "x"}], "rejected": [{"role": "assistant", "content": "y"}]}""", "share no leading messages")]
    public void A_bad_preference_row_names_file_line_key_and_fix(string badLine, string expected)
    {
        string path = TestData.TempJsonl("""{"prompt": "ok", "chosen": " yes", "rejected": " no"}""", "", badLine);
        try
        {
            var e = Assert.Throws<TrainingException>(() => new JsonlDataset(path, DatasetKind.Preference).ToList());
            Assert.StartsWith($"{path}:3: ", e.Message);
            Assert.Contains(expected, e.Message);
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData("""{"prompt": "a", "completion": "b", "label": "yes"}""", "\"label\" must be true or false (got string)")]
    [InlineData("""{"text": 7}""", "\"text\" must be a string (got number)")]
    [InlineData("""{"messages": "hi"}""", "\"messages\" must be a list of messages (got string)")]
    [InlineData("""{"question": "a"}""", "no dataset keys found (keys: question)")]
    [InlineData("""{"prompt": "a", "completions": ["b"], "labels": [true]}""", "step-wise supervision")]
    public void Other_bad_rows_are_explained(string line, string expected)
    {
        string path = TestData.TempJsonl(line);
        try { Assert.Contains(expected, Assert.Throws<TrainingException>(() => new JsonlDataset(path).ToList()).Message); }
        finally { File.Delete(path); }
    }

    [Fact]
    public void The_first_row_fixes_the_kind_and_a_later_row_of_another_kind_is_an_error()
    {
        string path = TestData.TempJsonl("""{"text": "hello"}""", """{"prompt": "a", "completion": "b"}""");
        try
        {
            var e = Assert.Throws<TrainingException>(() => new JsonlDataset(path).ToList());
            Assert.StartsWith($"{path}:2: \"text\" is missing", e.Message);
            Assert.Contains("looks like a prompt-completion", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Bad_rows_can_be_skipped_and_counted()
    {
        string file = TestData.File("preference_bad.jsonl");
        Assert.StartsWith($"{file}:2: \"chosen\" must be", Assert.Throws<TrainingException>(() => new JsonlDataset(file).ToList()).Message);

        var data = new JsonlDataset(file, DatasetKind.Preference, skipBadRows: true);
        var rows = data.ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal([$"{file}:1", $"{file}:8"], rows.Select(r => r.Origin));
        Assert.Equal(5, data.SkippedRows);
        Assert.Equal(5, data.SkipReasons.Count);
        Assert.Equal([2, 4, 5, 6, 7], data.SkipReasons.Select(r => int.Parse(r[(file.Length + 1)..r.IndexOf(": ", file.Length, StringComparison.Ordinal)])));
        Assert.Contains("role must be one of", data.SkipReasons[3]);
        Assert.Contains("empty list", data.SkipReasons[4]);

        _ = data.ToList();   // counts restart with each enumeration
        Assert.Equal(5, data.SkippedRows);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var e = Assert.Throws<TrainingException>(() => new JsonlDataset("no/such/file.jsonl").ToList());
        Assert.Equal("no/such/file.jsonl: dataset file not found", e.Message);
    }

    [Theory]
    [InlineData("sft.jsonl", DatasetKind.LanguageModeling, true, 40)]
    [InlineData("preference.jsonl", DatasetKind.Preference, false, 40)]
    [InlineData("preference_chat.jsonl", DatasetKind.Preference, true, 20)]
    [InlineData("kto.jsonl", DatasetKind.UnpairedPreference, false, 40)]
    public void Example_datasets_are_valid_and_tokenize(string file, DatasetKind kind, bool conversational, int count)
    {
        string path = Path.Combine(TestData.RepoRoot(), "examples", "data", file);
        Assert.True(new FileInfo(path).Length < 50_000);
        var rows = JsonlDataset.ReadAll(path, kind);
        Assert.Equal(count, rows.Count);
        Assert.All(rows, r => Assert.Equal(conversational, r.IsConversational));
        var tok = TestData.Qwen();
        foreach (var row in rows)
        {
            switch (row)
            {
                case PreferenceRow p:
                    var pair = tok.Preference(p);
                    Assert.NotEmpty(pair.Chosen); Assert.NotEmpty(pair.Rejected);
                    break;
                case UnpairedPreferenceRow u: Assert.NotEmpty(tok.Unpaired(u).Completion); break;
                default: Assert.True(tok.Sft(row, new SftOptions { AssistantOnlyLoss = true }).TrainedTokens > 0); break;
            }
        }
    }
}
