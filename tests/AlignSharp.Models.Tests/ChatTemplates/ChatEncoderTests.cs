using System.Text.Json;
using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Tokenizers;

namespace AlignSharp.Models.Tests.ChatTemplates;

public class ChatEncoderTests
{
    private static readonly string Qwen2 = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers", "qwen2");
    private static readonly string Llama3 = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers", "llama3");

    private static JsonElement Conversation => JsonDocument.Parse("""
        [{"role": "system", "content": "Be brief."},
         {"role": "user", "content": "What is 2+2?"},
         {"role": "assistant", "content": "It is 4."},
         {"role": "user", "content": "And 3+3?"},
         {"role": "assistant", "content": "6, of course."}]
        """).RootElement;

    private static string MaskedText(Tokenizer tokenizer, ChatEncoding e) =>
        tokenizer.Decode(e.Ids.Where((_, i) => e.AssistantMask[i]).ToArray());

    [Fact]
    public void ChatML_mask_covers_assistant_content_and_end_of_turn()
    {
        var tokenizer = Tokenizer.Load(Qwen2);
        var e = ChatEncoder.Encode(tokenizer, BuiltInTemplates.Get("chatml"), Conversation);
        Assert.Equal(e.Text, tokenizer.Decode(e.Ids));
        Assert.Equal("It is 4.<|im_end|>\n6, of course.<|im_end|>\n", MaskedText(tokenizer, e));
    }

    [Fact]
    public void Llama3_mask_covers_assistant_content_and_eot()
    {
        var tokenizer = Tokenizer.Load(Llama3);
        var options = new ChatTemplateOptions { BosToken = "<|begin_of_text|>" };
        var e = ChatEncoder.Encode(tokenizer, BuiltInTemplates.Get("llama3"), Conversation, options);
        Assert.Equal(tokenizer.TokenToId("<|begin_of_text|>"), e.Ids[0]);
        Assert.Equal(1, e.Ids.Count(id => id == tokenizer.TokenToId("<|begin_of_text|>")));
        Assert.Equal("It is 4.<|eot_id|>6, of course.<|eot_id|>", MaskedText(tokenizer, e));
    }

    [Fact]
    public void Generation_prompt_adds_no_assistant_tokens()
    {
        var tokenizer = Tokenizer.Load(Qwen2);
        var prompt = JsonDocument.Parse("""[{"role": "user", "content": "hi"}]""").RootElement;
        var e = ChatEncoder.Encode(tokenizer, BuiltInTemplates.Get("chatml"), prompt, new ChatTemplateOptions { AddGenerationPrompt = true });
        Assert.EndsWith("<|im_start|>assistant\n", e.Text);
        Assert.DoesNotContain(true, e.AssistantMask);
    }
}
