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
    /// <summary>Renders <paramref name="messages"/> (a JSON array of message objects) and tokenizes the text, with the assistant-token mask.</summary>
    public static ChatEncoding Encode(Tokenizer tokenizer, ChatTemplate template, JsonElement messages, ChatTemplateOptions? options = null) =>
        Tokenize(tokenizer, template.Render(messages, options));

    /// <summary>Renders Microsoft.Extensions.AI <paramref name="messages"/> and tokenizes the text, with the assistant-token mask.</summary>
    /// <exception cref="ArgumentException">A message holds content a text template cannot render.</exception>
    public static ChatEncoding Encode(Tokenizer tokenizer, ChatTemplate template, IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages, ChatTemplateOptions? options = null) =>
        Tokenize(tokenizer, template.Render(messages, options));

    static ChatEncoding Tokenize(Tokenizer tokenizer, ChatTemplateResult rendered)
    {
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

    /// <summary>The built-in template used for a folder without chat_template: ChatML, as in generate --chat, chat render, training and the demo.</summary>
    public const string FallbackTemplateName = "chatml";

    /// <summary>
    /// The folder's own chat template, else the built-in <see cref="FallbackTemplateName"/> (<paramref name="usedFallback"/>
    /// true). Every command that needs a template for a folder goes through here, so they all agree; callers that talk
    /// to a user should say so (see <see cref="FallbackNote"/>).
    /// </summary>
    public static ChatTemplate FromFolderOrFallback(string folder, out bool usedFallback)
    {
        var own = FromFolder(folder);
        usedFallback = own is null;
        return own ?? BuiltInTemplates.Get(FallbackTemplateName);
    }

    /// <summary>
    /// The one line telling a user that <see cref="FromFolderOrFallback"/> used the fallback for <paramref name="folder"/>;
    /// <paramref name="orElse"/> adds another way to choose (e.g. "pass --template FILE|NAME").
    /// </summary>
    public static string FallbackNote(string folder, string? orElse = null) =>
        $"{Path.Combine(folder, "tokenizer_config.json")} has no chat_template; using the built-in {FallbackTemplateName} template " +
        $"(to use another, add a chat_template to tokenizer_config.json{(orElse is null ? "" : ", or " + orElse)})";

    /// <summary>bos_token and eos_token of a folder's tokenizer_config.json as template options.</summary>
    public static ChatTemplateOptions OptionsFromFolder(string folder, bool addGenerationPrompt = false)
    {
        var config = TokenizerConfig.Load(folder);
        return new ChatTemplateOptions { AddGenerationPrompt = addGenerationPrompt, BosToken = config.BosToken, EosToken = config.EosToken };
    }
}
