using System.Text.Json;
using AlignSharp.Models.ChatTemplates;

namespace AlignSharp.Models.Tests.ChatTemplates;

public class BuiltInTemplateTests
{
    static readonly JsonElement Chat = JsonDocument.Parse("""
        [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Again"}]
        """).RootElement;

    [Theory]
    [InlineData("chatml", "chatml")]
    [InlineData("llama3", "llama3")]
    [InlineData("mistral", "mistral_v0_1")]
    [InlineData("zephyr", "zephyr")]
    public void Built_in_sources_are_the_fixture_templates(string name, string fixtureName)
    {
        // Same source => the parity fixtures for that template cover the built-in one.
        Assert.Equal(ChatTemplateFixtureTests.TemplateSource(fixtureName).TrimEnd('\n'), BuiltInTemplates.GetSource(name));
    }

    [Fact]
    public void Chatml_renders_turns_and_generation_prompt()
    {
        var text = BuiltInTemplates.Get("ChatML").Render(Chat, new ChatTemplateOptions { AddGenerationPrompt = true }).Text;
        Assert.Equal("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n<|im_start|>user\nAgain<|im_end|>\n<|im_start|>assistant\n", text);
    }

    [Fact]
    public void Llama3_renders_headers()
    {
        var text = BuiltInTemplates.Get("llama3").Render(Chat, new ChatTemplateOptions { AddGenerationPrompt = true, BosToken = "<|begin_of_text|>" }).Text;
        Assert.Equal("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAgain<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", text);
    }

    [Fact]
    public void Zephyr_and_mistral_render()
    {
        var options = new ChatTemplateOptions { AddGenerationPrompt = true, BosToken = "<s>", EosToken = "</s>" };
        Assert.Equal("<|user|>\nHi</s>\n<|assistant|>\nHello</s>\n<|user|>\nAgain</s>\n<|assistant|>\n", BuiltInTemplates.Get("zephyr").Render(Chat, options).Text);
        Assert.Equal("<s>[INST] Hi [/INST]Hello</s>[INST] Again [/INST]", BuiltInTemplates.Get("mistral").Render(Chat, options).Text);
    }

    [Fact]
    public void Unknown_name_lists_the_known_ones()
    {
        var ex = Assert.Throws<ArgumentException>(() => BuiltInTemplates.Get("vicuna"));
        Assert.Contains("chatml, llama3, mistral, zephyr", ex.Message);
    }
}
