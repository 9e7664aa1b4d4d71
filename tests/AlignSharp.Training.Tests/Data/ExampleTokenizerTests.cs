using AlignSharp.Models.ChatTemplates;
using AlignSharp.Training.Data;
using static AlignSharp.Tensors.Ops;

namespace AlignSharp.Training.Tests.Data;

public class ExampleTokenizerTests
{
    static T Row<T>(string file, int index = 0) where T : DatasetRow => (T)JsonlDataset.ReadAll(TestData.File(file))[index];

    [Fact]
    public void Special_tokens_come_from_tokenizer_config()
    {
        var qwen = TestData.Qwen();
        Assert.Equal(qwen.Tokenizer.TokenToId("<|im_end|>"), qwen.EosId);
        Assert.Equal(qwen.EosId, qwen.PadId);   // no pad_token: pad with EOS
        var llama = TestData.Llama();
        Assert.Equal(llama.Tokenizer.TokenToId("<|eot_id|>"), llama.EosId);
        Assert.Equal("<|begin_of_text|>", llama.TemplateOptions.BosToken);
    }

    [Fact]
    public void Text_rows_train_on_everything_with_bos_per_tokenizer_and_eos_appended()
    {
        var row = Row<LanguageModelingRow>("lm_text.jsonl");
        var llama = TestData.Llama();
        var example = llama.Sft(row);
        Assert.Equal("<|begin_of_text|>The sky is blue.<|eot_id|>", llama.Tokenizer.Decode(example.InputIds));
        Assert.Equal(example.InputIds, example.Labels);

        var qwen = TestData.Qwen();   // Qwen2's post-processor adds no BOS
        Assert.Equal("The sky is blue.<|im_end|>", qwen.Tokenizer.Decode(qwen.Sft(row).InputIds));
    }

    [Fact]
    public void Prompt_completion_rows_train_on_the_completion_only()
    {
        var row = Row<PromptCompletionRow>("prompt_completion.jsonl");
        var llama = TestData.Llama();
        var example = llama.Sft(row);
        Assert.Equal("<|begin_of_text|>The capital of France is Paris.<|eot_id|>", llama.Tokenizer.Decode(example.InputIds));
        Assert.Equal(" Paris.<|eot_id|>", TestData.DecodeLabeled(llama.Tokenizer, example.Labels));
        int prompt = example.Labels.TakeWhile(l => l == IgnoreIndex).Count();
        Assert.Equal(llama.Tokenizer.Encode("The capital of France is"), example.InputIds[..prompt]);

        var full = llama.Sft(row, new SftOptions { CompletionOnlyLoss = false });
        Assert.Equal(full.InputIds, full.Labels);
    }

    [Fact]
    public void Conversational_prompt_completion_trains_on_the_assistant_turn()
    {
        var row = Row<PromptCompletionRow>("prompt_completion_chat.jsonl");
        var qwen = TestData.Qwen();
        var example = qwen.Sft(row);
        Assert.Equal("<|im_start|>user\nWhat color is the sky?<|im_end|>\n<|im_start|>assistant\nIt is blue.<|im_end|>\n", qwen.Tokenizer.Decode(example.InputIds));
        Assert.Equal("It is blue.<|im_end|>\n", TestData.DecodeLabeled(qwen.Tokenizer, example.Labels));
    }

    [Theory]
    [InlineData("qwen", "4.<|im_end|>\n6.<|im_end|>\n")]
    [InlineData("llama", "4.<|eot_id|>6.<|eot_id|>")]
    public void Assistant_only_loss_keeps_exactly_the_assistant_turns(string which, string expected)
    {
        var tok = which == "qwen" ? TestData.Qwen() : TestData.Llama();
        var row = Row<LanguageModelingRow>("lm_messages.jsonl");
        var example = tok.Sft(row, new SftOptions { AssistantOnlyLoss = true });
        Assert.Equal(expected, TestData.DecodeLabeled(tok.Tokenizer, example.Labels));
        string rendered = tok.Template!.Render(row.Content.Messages, tok.TemplateOptions).Text;
        Assert.Equal(rendered, tok.Tokenizer.Decode(example.InputIds));   // no extra special tokens

        var all = tok.Sft(row);   // TRL's default: the whole conversation carries loss
        Assert.Equal(all.InputIds, all.Labels);
    }

    [Fact]
    public void Conversational_rows_need_a_template()
    {
        var tok = new ExampleTokenizer(TestData.Qwen().Tokenizer, template: null, new ChatTemplateOptions { EosToken = "<|im_end|>" });
        var e = Assert.Throws<TrainingException>(() => tok.Sft(Row<LanguageModelingRow>("lm_messages.jsonl")));
        Assert.Contains("lm_messages.jsonl:1: the row is conversational but there is no chat template", e.Message);
    }

    [Fact]
    public void Preference_rows_give_prompt_and_completion_tokens()
    {
        var llama = TestData.Llama();
        var pair = llama.Preference(Row<PreferenceRow>("preference.jsonl"));
        Assert.Equal("<|begin_of_text|>The sky is", llama.Tokenizer.Decode(pair.Prompt));
        Assert.Equal(" blue.<|eot_id|>", llama.Tokenizer.Decode(pair.Chosen));
        Assert.Equal(" green.<|eot_id|>", llama.Tokenizer.Decode(pair.Rejected));
    }

    [Theory]
    [InlineData("qwen", "<|im_start|>user\nWhat color is the sky?<|im_end|>\n<|im_start|>assistant\n", "It is blue.<|im_end|>\n", "It is green.<|im_end|>\n")]
    [InlineData("llama", "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat color is the sky?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", "It is blue.<|eot_id|>", "It is green.<|eot_id|>")]
    public void Conversational_preference_splits_the_render_at_the_prompt(string which, string prompt, string chosen, string rejected)
    {
        var tok = which == "qwen" ? TestData.Qwen() : TestData.Llama();
        foreach (var row in new[] { Row<PreferenceRow>("preference_chat.jsonl"), Row<PreferenceRow>("preference_implicit.jsonl") })
        {
            var pair = tok.Preference(row);
            Assert.Equal(prompt, tok.Tokenizer.Decode(pair.Prompt));
            Assert.Equal(chosen, tok.Tokenizer.Decode(pair.Chosen));
            Assert.Equal(rejected, tok.Tokenizer.Decode(pair.Rejected));
            Assert.Equal(tok.Prompt(row.Prompt), pair.Prompt);
        }
    }

    [Fact]
    public void A_template_that_breaks_the_prefix_property_is_reported()
    {
        var template = ChatTemplate.Parse("{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %}");
        var tok = new ExampleTokenizer(TestData.Qwen().Tokenizer, template, new ChatTemplateOptions { EosToken = "<|im_end|>" });
        var e = Assert.Throws<TrainingException>(() => tok.Preference(Row<PreferenceRow>("preference_chat.jsonl")));
        Assert.Contains("preference_chat.jsonl:1: the chat template renders the prompt differently once a reply follows it", e.Message);
        Assert.Contains("add_generation_prompt is a prefix of the full conversation", e.Message);
    }

    [Fact]
    public void Template_errors_name_the_row()
    {
        var tok = new ExampleTokenizer(TestData.Qwen().Tokenizer, BuiltInTemplates.Get("mistral"), new ChatTemplateOptions { BosToken = "<s>", EosToken = "<|im_end|>" });
        var e = Assert.Throws<TrainingException>(() => tok.Sft(Row<LanguageModelingRow>("lm_messages.jsonl")));
        Assert.Contains("lm_messages.jsonl:1: the chat template failed on this row", e.Message);
    }

    [Fact]
    public void Unpaired_rows_keep_their_label()
    {
        var qwen = TestData.Qwen();
        var examples = JsonlDataset.ReadAll(TestData.File("kto.jsonl")).Cast<UnpairedPreferenceRow>().Select(r => qwen.Unpaired(r)).ToList();
        Assert.Equal([true, false, true], examples.Select(e => e.Label));
        Assert.Equal("2 + 2 =", qwen.Tokenizer.Decode(examples[1].Prompt));
        Assert.Equal(" 5<|im_end|>", qwen.Tokenizer.Decode(examples[1].Completion));

        var chat = qwen.Unpaired(Row<UnpairedPreferenceRow>("kto_chat.jsonl"));
        Assert.Equal("It is blue.<|im_end|>\n", qwen.Tokenizer.Decode(chat.Completion));
    }

    [Fact]
    public void Generation_prompts_match_the_training_prompt()
    {
        var qwen = TestData.Qwen();
        var prompt = TextOrMessages.FromMessages(("user", "What color is the sky?"));
        Assert.Equal("<|im_start|>user\nWhat color is the sky?<|im_end|>\n<|im_start|>assistant\n", qwen.Tokenizer.Decode(qwen.Prompt(prompt)));
        Assert.Equal(qwen.Preference(Row<PreferenceRow>("preference_chat.jsonl")).Prompt, qwen.Prompt(prompt));
        var llama = TestData.Llama();
        Assert.Equal("<|begin_of_text|>The sky is", llama.Tokenizer.Decode(llama.Prompt(TextOrMessages.FromText("The sky is"))));
    }

    [Fact]
    public void Sft_rejects_preference_rows()
    {
        var e = Assert.Throws<TrainingException>(() => TestData.Qwen().Sft(Row<PreferenceRow>("preference.jsonl")));
        Assert.Contains("SFT needs", e.Message);
    }
}
