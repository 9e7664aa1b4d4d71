using System.Text.Json;
using AlignSharp.Models.ChatTemplates;

namespace AlignSharp.Models.Tests.ChatTemplates;

public class AssistantSpanTests
{
    static JsonElement Conversation => JsonDocument.Parse("""
        [
          {"role": "system", "content": "Be brief."},
          {"role": "user", "content": "Hi!"},
          {"role": "assistant", "content": "Hello 👋"},
          {"role": "user", "content": "Bye"},
          {"role": "assistant", "content": "See you."}
        ]
        """).RootElement;

    static List<string> SpanTexts(ChatTemplateResult r) => r.AssistantSpans.Select(s => r.Text[s.Start..s.End]).ToList();

    [Fact]
    public void Generation_tags_mark_exactly_what_the_block_emitted()
    {
        var template = ChatTemplate.Parse(ChatTemplateFixtureTests.TemplateSource("chatml_generation"));
        Assert.True(template.HasGenerationTags);
        var result = template.Render(Conversation);
        Assert.Equal(["Hello 👋<|im_end|>", "See you.<|im_end|>"], SpanTexts(result));
    }

    [Fact]
    public void Prefix_rule_on_chatml_covers_content_and_end_of_turn()
    {
        var template = BuiltInTemplates.Get("chatml");
        Assert.False(template.HasGenerationTags);
        var result = template.Render(Conversation);
        Assert.Equal(["Hello 👋<|im_end|>\n", "See you.<|im_end|>\n"], SpanTexts(result));
    }

    [Fact]
    public void Prefix_rule_on_llama3_covers_content_and_eot()
    {
        var result = BuiltInTemplates.Get("llama3").Render(Conversation, new ChatTemplateOptions { BosToken = "<|begin_of_text|>" });
        Assert.Equal(["Hello 👋<|eot_id|>", "See you.<|eot_id|>"], SpanTexts(result));
    }

    [Fact]
    public void Prefix_rule_on_llama3_1_with_tools_covers_tool_call_turns()
    {
        var c = ChatTemplateFixtureTests.Root.GetProperty("cases").EnumerateArray()
            .First(x => x.GetProperty("name").GetString() == "llama3_1/tools_call/gen=false/tools");
        var template = ChatTemplate.Parse(ChatTemplateFixtureTests.TemplateSource("llama3_1"));
        var result = template.Render(c.GetProperty("messages"), ChatTemplateFixtureTests.Options(c.GetProperty("options")));
        Assert.Equal(
            ["{\"name\": \"get_weather\", \"parameters\": {\"location\": \"Paris, France\", \"unit\": \"celsius\"}}<|eot_id|>", "It is 22°C and sunny in Paris.<|eot_id|>"],
            SpanTexts(result));
    }

    [Fact]
    public void Prefix_rule_with_eos_after_content_includes_eos()
    {
        var result = BuiltInTemplates.Get("mistral").Render(
            JsonDocument.Parse("""[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]""").RootElement,
            new ChatTemplateOptions { BosToken = "<s>", EosToken = "</s>" });
        Assert.Equal("<s>[INST] a [/INST]b</s>", result.Text);
        Assert.Equal(["b</s>"], SpanTexts(result));
    }
}
