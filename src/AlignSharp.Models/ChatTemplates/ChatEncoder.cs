using System.Text.Json;
using AlignSharp.Models.Tokenizers;

namespace AlignSharp.Models.ChatTemplates;

/// <summary>A rendered and tokenized conversation with the mask of tokens that belong to assistant turns.</summary>
public sealed record ChatEncoding(string Text, int[] Ids, bool[] AssistantMask);

/// <summary>
/// Renders a conversation with its chat template and tokenizes it, marking the tokens of assistant turns (the
/// targets of completion-only / assistant-only loss). A token is an assistant token when its character range
/// overlaps an assistant span of the render (<see cref="ChatTemplate.Render"/> explains how spans are found).
/// Special tokens in the rendered text are matched as added tokens; no BOS is added by the tokenizer, because
/// chat templates write it themselves (as transformers' apply_chat_template does).
/// </summary>
public static class ChatEncoder
{
    public static ChatEncoding Encode(Tokenizer tokenizer, ChatTemplate template, JsonElement messages, ChatTemplateOptions? options = null)
    {
        var rendered = template.Render(messages, options);
        var encoded = tokenizer.EncodeWithOffsets(rendered.Text, addSpecialTokens: false);
        var mask = new bool[encoded.Ids.Length];
        for (int i = 0; i < mask.Length; i++)
        {
            var (start, end) = encoded.Offsets[i];
            foreach (var (s, e) in rendered.AssistantSpans)
                if (start < e && end > s) { mask[i] = true; break; }
        }
        return new ChatEncoding(rendered.Text, encoded.Ids, mask);
    }

    /// <summary>
    /// The chat template of a model or tokenizer folder (tokenizer_config.json's chat_template), or null when it has none.
    /// </summary>
    public static ChatTemplate? FromFolder(string folder)
    {
        var config = TokenizerConfig.Load(folder);
        return config.ChatTemplate is { } source ? ChatTemplate.Parse(source, Path.Combine(folder, "tokenizer_config.json") + " chat_template") : null;
    }

    /// <summary>bos_token and eos_token of a folder's tokenizer_config.json as template options.</summary>
    public static ChatTemplateOptions OptionsFromFolder(string folder, bool addGenerationPrompt = false)
    {
        var config = TokenizerConfig.Load(folder);
        return new ChatTemplateOptions { AddGenerationPrompt = addGenerationPrompt, BosToken = config.BosToken, EosToken = config.EosToken };
    }
}
