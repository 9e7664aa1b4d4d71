using AlignSharp.Training.Data;

namespace AlignSharp.Training.Tests.Data;

public class TruncationTests
{
    static int[] Seq(int start, int count) => Enumerable.Range(start, count).ToArray();

    [Fact]
    public void Max_prompt_length_keeps_the_end_of_the_prompt_by_default()
    {
        var (prompt, c) = new TruncationOptions { MaxPromptLength = 3 }.Apply(Seq(0, 6), Seq(100, 4));
        Assert.Equal([3, 4, 5], prompt);
        Assert.Equal(Seq(100, 4), c[0]);
        (prompt, _) = new TruncationOptions { MaxPromptLength = 3, Mode = TruncationMode.KeepStart }.Apply(Seq(0, 6), Seq(100, 4));
        Assert.Equal([0, 1, 2], prompt);
    }

    [Fact]
    public void Max_completion_length_keeps_the_start_of_each_completion()
    {
        var (_, c) = new TruncationOptions { MaxCompletionLength = 2 }.Apply(Seq(0, 3), Seq(100, 4), Seq(200, 1));
        Assert.Equal([100, 101], c[0]);
        Assert.Equal([200], c[1]);
    }

    [Fact]
    public void Max_length_keep_end_shortens_the_shared_prompt_from_its_start()
    {
        var (prompt, c) = new TruncationOptions { MaxLength = 8 }.Apply(Seq(0, 6), Seq(100, 4), Seq(200, 2));
        Assert.Equal([2, 3, 4, 5], prompt);              // 4 + longest completion (4) = 8
        Assert.Equal(Seq(100, 4), c[0]);
        Assert.Equal(Seq(200, 2), c[1]);
        (prompt, c) = new TruncationOptions { MaxLength = 3 }.Apply(Seq(0, 6), Seq(100, 4));
        Assert.Empty(prompt);
        Assert.Equal([100, 101, 102], c[0]);
    }

    [Fact]
    public void Max_length_keep_start_cuts_the_completions()
    {
        var options = new TruncationOptions { MaxLength = 8, Mode = TruncationMode.KeepStart };
        var (prompt, c) = options.Apply(Seq(0, 6), Seq(100, 4), Seq(200, 1));
        Assert.Equal(Seq(0, 6), prompt);
        Assert.Equal([100, 101], c[0]);
        Assert.Equal([200], c[1]);
        (prompt, c) = (options with { MaxLength = 4 }).Apply(Seq(0, 6), Seq(100, 4));
        Assert.Equal([0, 1, 2, 3], prompt);
        Assert.Empty(c[0]);
    }

    [Fact]
    public void Limits_apply_in_order_prompt_completion_total()
    {
        var options = new TruncationOptions { MaxPromptLength = 5, MaxCompletionLength = 3, MaxLength = 7 };
        var (prompt, c) = options.Apply(Seq(0, 10), Seq(100, 10));
        Assert.Equal([6, 7, 8, 9], prompt);   // 10 → 5 (MaxPromptLength) → 4 (MaxLength − 3)
        Assert.Equal([100, 101, 102], c[0]);
    }

    [Fact]
    public void Tokenized_pairs_are_truncated_and_share_the_prompt()
    {
        var llama = TestData.Llama();
        var row = (PreferenceRow)JsonlDataset.ReadAll(TestData.File("preference.jsonl"))[0];
        var full = llama.Preference(row);
        var cut = llama.Preference(row, new TruncationOptions { MaxPromptLength = 2 });
        Assert.Equal(full.Prompt[^2..], cut.Prompt);
        Assert.Equal(full.Chosen, cut.Chosen);
        var capped = llama.Preference(row, new TruncationOptions { MaxCompletionLength = 1 });
        Assert.Equal(full.Chosen[..1], capped.Chosen);
    }

    [Fact]
    public void Sft_max_length_keeps_the_start_by_default_and_the_end_on_request()
    {
        var llama = TestData.Llama();
        var row = JsonlDataset.ReadAll(TestData.File("prompt_completion.jsonl"))[0];
        var full = llama.Sft(row);
        var start = llama.Sft(row, new SftOptions { MaxLength = 4 });
        Assert.Equal(full.InputIds[..4], start.InputIds);
        Assert.Equal(full.Labels[..4], start.Labels);
        var end = llama.Sft(row, new SftOptions { MaxLength = 4, TruncationMode = TruncationMode.KeepEnd });
        Assert.Equal(full.InputIds[^4..], end.InputIds);
        Assert.Equal(full.Labels[^4..], end.Labels);
    }
}
