using System.Text;
using System.Text.Json;
using AlignSharp.Feedback;
using AlignSharp.Training.Data;
using Microsoft.Extensions.AI;

namespace AlignSharp.Training.Tests.Data;

/// <summary>The TRL writers: every format written and read back equal, the exact JSON of each, and atomic files.</summary>
public class TrlJsonlWriterTests
{
    static TextOrMessages T(string text) => TextOrMessages.FromText(text);
    static TextOrMessages M(params (string Role, string Content)[] messages) => TextOrMessages.FromMessages(messages);
    static TextOrMessages Json(string array) { using var d = JsonDocument.Parse(array); return TextOrMessages.FromMessages(d.RootElement); }

    /// <summary>One row of every kind in both forms, with the exact line each must be written as.</summary>
    public static TheoryData<string, DatasetRow, string> Rows() => new()
    {
        { "text", new LanguageModelingRow("", T("Grüße, 世界 \"quoted\" 😀 a\\b\n\t\u0001")), """{"text":"Grüße, 世界 \"quoted\" 😀 a\\b\n\t\u0001"}""" },
        { "messages", new LanguageModelingRow("", Json("""[{"role":"user","content":"hi"},{"role":"assistant","content":null,"tool_calls":[{"type":"function","function":{"name":"f","arguments":{}}}]},{"role":"tool","name":"f","content":"1"}]""")),
            """{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":null,"tool_calls":[{"type":"function","function":{"name":"f","arguments":{}}}]},{"role":"tool","name":"f","content":"1"}]}""" },
        { "prompt standard", new PromptOnlyRow("", T("2+2=")), """{"prompt":"2+2="}""" },
        { "prompt conversational", new PromptOnlyRow("", M(("system", "be brief"), ("user", "2+2?"))),
            """{"prompt":[{"role":"system","content":"be brief"},{"role":"user","content":"2+2?"}]}""" },
        { "prompt-completion standard", new PromptCompletionRow("", T("The sky is"), T(" blue.")), """{"prompt":"The sky is","completion":" blue."}""" },
        { "prompt-completion conversational", new PromptCompletionRow("", M(("user", "Sky?")), M(("assistant", "Blue."))),
            """{"prompt":[{"role":"user","content":"Sky?"}],"completion":[{"role":"assistant","content":"Blue."}]}""" },
        { "preference standard", new PreferenceRow("", T("The sky is"), T(" blue."), T(" green.")),
            """{"prompt":"The sky is","chosen":" blue.","rejected":" green."}""" },
        { "preference standard with margin", new PreferenceRow("", T("The sky is"), T(" blue."), T(" green.")) { Margin = 0.75f },
            """{"prompt":"The sky is","chosen":" blue.","rejected":" green.","margin":0.75}""" },
        { "preference conversational", new PreferenceRow("", M(("user", "Sky?")), M(("assistant", "Blue.")), M(("assistant", "Green."))) { Margin = -1.5f },
            """{"prompt":[{"role":"user","content":"Sky?"}],"chosen":[{"role":"assistant","content":"Blue."}],"rejected":[{"role":"assistant","content":"Green."}],"margin":-1.5}""" },
        { "unpaired standard", new UnpairedPreferenceRow("", T("The sky is"), T(" blue."), true), """{"prompt":"The sky is","completion":" blue.","label":true}""" },
        { "unpaired conversational", new UnpairedPreferenceRow("", M(("user", "Sky?")), M(("assistant", "Green.")), false),
            """{"prompt":[{"role":"user","content":"Sky?"}],"completion":[{"role":"assistant","content":"Green."}],"label":false}""" },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Every_format_is_written_as_its_golden_line(string name, DatasetRow row, string golden)
    {
        Assert.True(name.Length > 0);
        Assert.Equal(golden, TrlJsonlWriter.ToJson(row));
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void Every_format_reads_back_identical(string name, DatasetRow row, string golden)
    {
        string path = TempPath();
        try
        {
            Assert.Equal(3, TrlJsonlWriter.WriteAll(path, [row, row, row]));
            Assert.Equal(string.Concat(Enumerable.Repeat(golden + "\n", 3)), File.ReadAllText(path));
            var back = JsonlDataset.ReadAll(path);
            Assert.Equal(3, back.Count);
            foreach (var r in back) AssertSameRow(row, r, name);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void An_implicit_prompt_row_is_written_with_its_prompt_explicit()
    {
        string input = TempPath();
        string output = TempPath();
        try
        {
            File.WriteAllText(input, """{"chosen":"The sky is blue.","rejected":"The sky is green."}""" + "\n");
            var row = Assert.IsType<PreferenceRow>(Assert.Single(JsonlDataset.ReadAll(input)));
            TrlJsonlWriter.WriteAll(output, [row]);
            Assert.Equal("""{"prompt":"The sky is","chosen":" blue.","rejected":" green."}""" + "\n", File.ReadAllText(output));
            AssertSameRow(row, Assert.Single(JsonlDataset.ReadAll(output)), "implicit");
        }
        finally { File.Delete(input); File.Delete(output); }
    }

    static readonly PromptRecord Single = new("q1", "Wie viel ist 2+2?", "arithmetic", new Dictionary<string, string> { ["answer"] = "4" });
    static readonly PromptRecord MultiTurn = new("q2",
        [new ChatMessage(ChatRole.System, "Answer with a number."), new ChatMessage(ChatRole.User, "2+2?"), new ChatMessage(ChatRole.Assistant, "4"), new ChatMessage(ChatRole.User, "and 3+3?")],
        "arithmetic", new Dictionary<string, string>());
    static FeedbackLabel Label(double score) => new(score, "r", new Provenance("test", SignalKind.Verifier));

    [Fact]
    public void Feedback_records_become_rows_in_both_forms()
    {
        var pair = new PreferencePair(Single, "4", "5", Label(1), Label(0.25));
        Assert.Equal("""{"prompt":[{"role":"user","content":"Wie viel ist 2+2?"}],"chosen":[{"role":"assistant","content":"4"}],"rejected":[{"role":"assistant","content":"5"}],"margin":0.75}""",
            TrlJsonlWriter.ToJson(TrlRows.Preference(pair, withMargin: true)));
        Assert.Equal("""{"prompt":"Wie viel ist 2+2?","chosen":"4","rejected":"5"}""", TrlJsonlWriter.ToJson(TrlRows.Preference(pair, conversational: false)));
        Assert.Equal("""{"prompt":"Wie viel ist 2+2?","completion":"5","label":false}""",
            TrlJsonlWriter.ToJson(TrlRows.Unpaired(new UnpairedLabel(Single, "5", false, Label(0)), conversational: false)));
        Assert.Equal("""{"prompt":[{"role":"user","content":"Wie viel ist 2+2?"}],"completion":[{"role":"assistant","content":"4"}],"label":true}""",
            TrlJsonlWriter.ToJson(TrlRows.Unpaired(new UnpairedLabel(Single, "4", true, Label(1)))));
        Assert.Equal("""{"prompt":[{"role":"system","content":"Answer with a number."},{"role":"user","content":"2+2?"},{"role":"assistant","content":"4"},{"role":"user","content":"and 3+3?"}],"completion":[{"role":"assistant","content":"6"}]}""",
            TrlJsonlWriter.ToJson(TrlRows.PromptCompletion(MultiTurn, "6")));
        Assert.Equal("""{"prompt":"Wie viel ist 2+2?"}""", TrlJsonlWriter.ToJson(TrlRows.PromptOnly(Single, conversational: false)));
        Assert.Equal("""{"messages":[{"role":"user","content":"Wie viel ist 2+2?"},{"role":"assistant","content":"4"}]}""",
            TrlJsonlWriter.ToJson(TrlRows.Conversation(Single, "4")));
    }

    [Fact]
    public void A_multi_turn_prompt_in_the_standard_form_is_refused_by_name()
    {
        var e = Assert.Throws<TrainingException>(() => TrlRows.PromptOnly(MultiTurn, conversational: false));
        Assert.Contains("prompt q2", e.Message);
        Assert.Contains("conversational", e.Message);
    }

    [Fact]
    public void Records_round_trip_through_the_reader()
    {
        string path = TempPath();
        try
        {
            var pairs = new[] { new PreferencePair(Single, "4", "5", Label(1), Label(0)), new PreferencePair(MultiTurn, "6", "six?", Label(0.9), Label(0.1)) };
            TrlJsonlWriter.WriteAll(path, pairs.Select(p => TrlRows.Preference(p, withMargin: true)));
            var back = JsonlDataset.ReadAll(path, DatasetKind.Preference).Cast<PreferenceRow>().ToList();
            Assert.Equal(2, back.Count);
            Assert.Equal(4, back[1].Prompt.MessageList.Count);
            Assert.Equal("six?", back[1].Rejected.MessageList[0].GetProperty("content").GetString());
            Assert.Equal(0.8f, back[1].Margin!.Value, 5);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void The_file_is_utf8_without_bom_and_without_escapes()
    {
        string path = TempPath();
        try
        {
            TrlJsonlWriter.WriteAll(path, [new LanguageModelingRow("", T("Grüße <b>&</b> 'x' 😀"))]);
            byte[] bytes = File.ReadAllBytes(path);
            Assert.False(bytes.AsSpan().StartsWith("\uFEFF"u8), "no byte-order mark");
            Assert.Equal("{\"text\":\"Grüße <b>&</b> 'x' 😀\"}\n", Encoding.UTF8.GetString(bytes));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void An_unpaired_surrogate_becomes_the_replacement_character_not_a_cut()
    {
        Assert.Equal("{\"text\":\"a\uFFFDb 😀 \uFFFDc\"}", TrlJsonlWriter.ToJson(new LanguageModelingRow("", T("a\ud800b 😀 \udc00c"))));
    }

    [Fact]
    public void A_failed_write_leaves_the_previous_file_and_no_temporary()
    {
        string folder = Directory.CreateTempSubdirectory("alignsharp-writer-").FullName;
        string path = Path.Combine(folder, "pairs.jsonl");
        try
        {
            File.WriteAllText(path, "previous\n");
            IEnumerable<DatasetRow> Failing()
            {
                yield return new PromptOnlyRow("", T("a"));
                throw new IOException("disk on fire");
            }
            Assert.Throws<IOException>(() => TrlJsonlWriter.WriteAll(path, Failing()));
            Assert.Equal("previous\n", File.ReadAllText(path));
            using (var w = new TrlJsonlWriter(path)) w.Write(new PromptOnlyRow("", T("b")));  // disposed without Commit
            Assert.Equal("previous\n", File.ReadAllText(path));
            Assert.Equal(["pairs.jsonl"], Directory.GetFiles(folder).Select(Path.GetFileName));
            TrlJsonlWriter.WriteAll(path, [new PromptOnlyRow("", T("c"))]);
            Assert.Equal("{\"prompt\":\"c\"}\n", File.ReadAllText(path));
            Assert.Equal(["pairs.jsonl"], Directory.GetFiles(folder).Select(Path.GetFileName));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Fact]
    public void Mixing_kinds_or_forms_in_one_file_is_refused()
    {
        string path = TempPath();
        using var w = new TrlJsonlWriter(path);
        w.Write(new PromptOnlyRow("", T("a")));
        var kind = Assert.Throws<TrainingException>(() => w.Write(new PromptCompletionRow("x.jsonl:2", T("a"), T("b"))));
        Assert.Contains("row 2 (x.jsonl:2)", kind.Message);
        var form = Assert.Throws<TrainingException>(() => w.Write(new PromptOnlyRow("", M(("user", "a")))));
        Assert.Contains("conversational", form.Message);
    }

    [Fact]
    public void A_missing_folder_names_the_file()
    {
        string path = Path.Combine(Path.GetTempPath(), $"alignsharp-missing-{Guid.NewGuid():N}", "x.jsonl");
        var e = Assert.Throws<TrainingException>(() => new TrlJsonlWriter(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("does not exist", e.Message);
    }

    static string TempPath() => Path.Combine(Path.GetTempPath(), $"alignsharp-trl-{Guid.NewGuid():N}.jsonl");

    /// <summary>Same kind, form and fields (messages compared as JSON, every key included), margin and label.</summary>
    static void AssertSameRow(DatasetRow expected, DatasetRow actual, string name)
    {
        Assert.Equal(expected.Kind, actual.Kind);
        Assert.Equal(expected.IsConversational, actual.IsConversational);
        Assert.True(Fields(expected).Zip(Fields(actual)).All(p => SameField(p.First, p.Second)) && Fields(expected).Count == Fields(actual).Count, name);
        Assert.Equal((expected as PreferenceRow)?.Margin, (actual as PreferenceRow)?.Margin);
        Assert.Equal((expected as UnpairedPreferenceRow)?.Label, (actual as UnpairedPreferenceRow)?.Label);
    }

    static List<TextOrMessages> Fields(DatasetRow row) => row switch
    {
        LanguageModelingRow r => [r.Content],
        PromptOnlyRow r => [r.Prompt],
        PromptCompletionRow r => [r.Prompt, r.Completion],
        PreferenceRow r => [r.Prompt, r.Chosen, r.Rejected],
        UnpairedPreferenceRow r => [r.Prompt, r.Completion],
        _ => throw new ArgumentException(row.GetType().Name),
    };

    static bool SameField(TextOrMessages a, TextOrMessages b) =>
        a.IsConversational == b.IsConversational && (a.IsConversational ? JsonElement.DeepEquals(a.Messages, b.Messages) : a.Text == b.Text);
}
