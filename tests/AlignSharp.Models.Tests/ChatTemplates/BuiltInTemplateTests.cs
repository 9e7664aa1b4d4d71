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

    [Theory]
    [InlineData("chatml", "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n")]
    [InlineData("llama3", "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello<|eot_id|>")]
    [InlineData("mistral", "<s>[INST] Hi [/INST]Hello</s>")]
    [InlineData("zephyr", "<|user|>\nHi</s>\n<|assistant|>\nHello</s>\n")]
    public void Every_built_in_template_renders_without_options(string name, string expected)
    {
        // No tokenizer folder: the template's own family bos/eos tokens are used.
        var twoTurns = JsonDocument.Parse("""[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]""").RootElement;
        var result = BuiltInTemplates.Get(name).Render(twoTurns);
        Assert.Equal(expected, result.Text);
        Assert.Single(result.AssistantSpans);
    }

    [Fact]
    public void Options_bos_and_eos_win_over_the_built_in_defaults()
    {
        var options = new ChatTemplateOptions { BosToken = "<B>", EosToken = "<E>" };
        Assert.Equal("<B>[INST] Hi [/INST]Hello<E>[INST] Again [/INST]", BuiltInTemplates.Get("mistral").Render(Chat, options).Text);
        Assert.Null(ChatTemplate.Parse(BuiltInTemplates.GetSource("mistral")).DefaultBosToken); // a parsed template has no defaults
    }

    [Fact]
    public void A_folder_without_chat_template_falls_back_to_chatml()
    {
        string dir = Path.Combine(Path.GetTempPath(), "alignsharp-fallback-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var template = ChatEncoder.FromFolderOrFallback(dir, out bool fallback);
            Assert.True(fallback);
            Assert.Equal(BuiltInTemplates.GetSource(ChatEncoder.FallbackTemplateName), template.Source);
            Assert.Contains("has no chat_template; using the built-in chatml template", ChatEncoder.FallbackNote(dir));
            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"chat_template": "{{ messages[0]['content'] }}"}""");
            Assert.Equal("{{ messages[0]['content'] }}", ChatEncoder.FromFolderOrFallback(dir, out fallback).Source);
            Assert.False(fallback);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Unknown_name_lists_the_known_ones()
    {
        var ex = Assert.Throws<ArgumentException>(() => BuiltInTemplates.Get("vicuna"));
        Assert.Contains("chatml, llama3, mistral, zephyr", ex.Message);
    }
}
