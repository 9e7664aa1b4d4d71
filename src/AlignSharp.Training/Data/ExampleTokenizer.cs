using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Tokenizers;
using Microsoft.Extensions.AI;
using static AlignSharp.Tensors.Ops;

namespace AlignSharp.Training.Data;

/// <summary>
/// Turns dataset rows into token ids the way TRL's trainers do.
/// </summary>
/// <remarks>
/// <para><b>Standard rows</b> (strings): a prompt, or an SFT <c>text</c>, is encoded with the tokenizer's special tokens
/// (its BOS, when its post-processor adds one); a completion is encoded without them and gets EOS appended (TRL appends
/// <c>eos_token</c> to <c>text</c> and to completions), unless it already ends with EOS.</para>
/// <para><b>Conversational rows</b> go through the chat template with no extra special tokens (as transformers'
/// <c>apply_chat_template</c>): prompt = render(prompt, add_generation_prompt: true); completion = render(prompt +
/// completion) with that prompt text removed from its start. A template whose full render does not start with the
/// prompt render cannot be split and throws <see cref="TrainingException"/>.</para>
/// <para>Prompt and completion are tokenized separately, so the prompt tokens are exactly the ones the model is given
/// when it generates (TRL's DPO/KTO do the same; its SFT tokenizes prompt + completion jointly, which differs only when a
/// token would straddle the boundary).</para>
/// </remarks>
public sealed class ExampleTokenizer
{
    readonly ChatTemplateOptions _options;
    readonly int? _eosId;

    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="template">The chat template for conversational rows (null: conversational rows throw).</param>
    /// <param name="templateOptions">bos_token / eos_token (and any other template variables); <c>EosToken</c> is also the EOS appended to standard completions.</param>
    /// <param name="padToken">The padding token (tokenizer_config.json's pad_token); null pads with EOS.</param>
    public ExampleTokenizer(Tokenizer tokenizer, ChatTemplate? template = null, ChatTemplateOptions? templateOptions = null, string? padToken = null)
    {
        Tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        Template = template;
        _options = templateOptions ?? new ChatTemplateOptions();
        _eosId = TokenId(_options.EosToken, "eos_token");
        int? padId = TokenId(padToken, "pad_token");
        PadId = padId ?? _eosId ?? 0;
    }

    /// <summary>
    /// The tokenizer, chat template, bos/eos and pad tokens of a model or tokenizer folder (tokenizer.json +
    /// tokenizer_config.json). <paramref name="template"/> replaces the folder's chat template; without it, the folder's own,
    /// else the built-in fallback every command uses (<see cref="ChatEncoder.FromFolderOrFallback"/>: ChatML).
    /// </summary>
    public static ExampleTokenizer FromFolder(string folder, ChatTemplate? template = null)
    {
        var config = TokenizerConfig.Load(folder);
        return new ExampleTokenizer(Tokenizer.Load(folder), template ?? ChatEncoder.FromFolderOrFallback(folder, out _), ChatEncoder.OptionsFromFolder(folder), config.PadToken);
    }

    /// <summary>The tokenizer.</summary>
    public Tokenizer Tokenizer { get; }

    /// <summary>The chat template used for conversational rows, if any.</summary>
    public ChatTemplate? Template { get; }

    /// <summary>The template variables (bos_token, eos_token, ...), without add_generation_prompt.</summary>
    public ChatTemplateOptions TemplateOptions => _options;

    /// <summary>The id of eos_token.</summary>
    /// <exception cref="TrainingException">No eos_token was configured.</exception>
    public int EosId => _eosId ?? throw new TrainingException("no eos_token: standard rows end their completions with EOS; set eos_token in tokenizer_config.json (or ChatTemplateOptions.EosToken)");

    /// <summary>The id used for padding: pad_token, else eos_token, else 0 (padding is masked, so any id works).</summary>
    public int PadId { get; }

    // ---- SFT ------------------------------------------------------------------------------------

    /// <summary>
    /// An SFT example from a language-modeling or prompt–completion row. Labels are −100 on the prompt of a prompt–completion
    /// row when <see cref="SftOptions.CompletionOnlyLoss"/>, on every non-assistant token of a <c>messages</c> row when
    /// <see cref="SftOptions.AssistantOnlyLoss"/>, and nowhere for plain text. Then cut to <see cref="SftOptions.MaxLength"/>.
    /// </summary>
    /// <exception cref="TrainingException">Another kind of row, a conversational row without a template, or a template that cannot be split.</exception>
    public SftExample Sft(DatasetRow row, SftOptions? options = null)
    {
        options ??= new SftOptions();
        int[] ids, labels;
        switch (row)
        {
            case LanguageModelingRow { Content.IsConversational: false } text:
                ids = AppendEos(Tokenizer.Encode(text.Content.Text, addSpecialTokens: true));
                labels = (int[])ids.Clone();
                break;
            case LanguageModelingRow chat:
                var encoding = Guard(chat.Origin, () => ChatEncoder.Encode(Tokenizer, RequireTemplate(chat.Origin), chat.Content.Messages, _options with { AddGenerationPrompt = false }));
                ids = encoding.Ids;
                labels = (int[])ids.Clone();
                if (options.AssistantOnlyLoss)
                {
                    if (!encoding.AssistantMask.Contains(true) && chat.Content.MessageList.Any(m => m.TryGetProperty("role", out var r) && r.GetString() == "assistant"))
                        throw new TrainingException($"{chat.Origin}: the chat template marks no assistant tokens in this conversation, so assistant-only loss would train on nothing; " +
                            "use a template with {% generation %} tags or one whose renders of the leading turns are prefixes of the full render, or turn AssistantOnlyLoss off");
                    for (int i = 0; i < ids.Length; i++) if (!encoding.AssistantMask[i]) labels[i] = IgnoreIndex;
                }
                break;
            case PromptCompletionRow pc:
                var (prompt, completions) = Encode(pc.Origin, pc.Prompt, pc.Completion);
                var completion = completions[0];
                ids = [.. prompt, .. completion];
                labels = (int[])ids.Clone();
                if (options.CompletionOnlyLoss) Array.Fill(labels, IgnoreIndex, 0, prompt.Length);
                break;
            default:
                throw new TrainingException($"{row.Origin}: SFT needs {DatasetKindNames.Describe(DatasetKind.LanguageModeling)} or {DatasetKindNames.Describe(DatasetKind.PromptCompletion)} rows, not {DatasetKindNames.Describe(row.Kind)}");
        }
        if (options.MaxLength is { } max)
        {
            ids = TruncationOptions.Cut(ids, max, options.TruncationMode);
            labels = TruncationOptions.Cut(labels, max, options.TruncationMode);
        }
        return new SftExample(ids, labels);
    }

    // ---- preference -----------------------------------------------------------------------------

    /// <summary>A preference pair's prompt, chosen and rejected tokens, cut by <paramref name="truncation"/>.</summary>
    public PreferenceExample Preference(PreferenceRow row, TruncationOptions? truncation = null)
    {
        var (prompt, completions) = Encode(row.Origin, row.Prompt, row.Chosen, row.Rejected);
        (prompt, completions) = (truncation ?? TruncationOptions.None).Apply(prompt, completions);
        return new PreferenceExample(prompt, completions[0], completions[1]) { Margin = row.Margin };
    }

    /// <summary>An unpaired (KTO) example's prompt and completion tokens, cut by <paramref name="truncation"/>.</summary>
    public UnpairedExample Unpaired(UnpairedPreferenceRow row, TruncationOptions? truncation = null)
    {
        var (prompt, completions) = Encode(row.Origin, row.Prompt, row.Completion);
        (prompt, completions) = (truncation ?? TruncationOptions.None).Apply(prompt, completions);
        return new UnpairedExample(prompt, completions[0], row.Label);
    }

    /// <summary>
    /// The prompt tokens a model is given to generate from: a standard prompt with the tokenizer's special tokens, a
    /// conversational one rendered with add_generation_prompt. <paramref name="origin"/> names the row in errors.
    /// </summary>
    public int[] Prompt(TextOrMessages prompt, string origin = "prompt") =>
        prompt.IsConversational
            ? Tokenizer.Encode(RenderPrompt(origin, prompt), addSpecialTokens: false)
            : EncodeWithLeadingSpecials(prompt.Text);

    /// <summary>
    /// The prompt tokens of a conversation given as Microsoft.Extensions.AI messages (e.g. a
    /// <c>PromptRecord.Messages</c>): rendered with the chat template and add_generation_prompt, token for token what
    /// the same conversation as a conversational row's prompt gives. <paramref name="origin"/> names it in errors.
    /// </summary>
    /// <exception cref="TrainingException">No chat template, the template fails, or a message holds content it cannot render.</exception>
    public int[] Prompt(IEnumerable<ChatMessage> messages, string origin = "prompt")
    {
        string text = Guard(origin, () =>
        {
            try { return RequireTemplate(origin).Render(messages, _options with { AddGenerationPrompt = true }).Text; }
            catch (ArgumentException e) { throw new TrainingException($"{origin}: {e.Message}"); }
        });
        return Tokenizer.Encode(text, addSpecialTokens: false);
    }

    /// <summary>
    /// Prompt tokens and the tokens of each completion (to be appended to the prompt), by the rules in the class remarks.
    /// All fields must share one form (all strings or all message lists).
    /// </summary>
    public (int[] Prompt, int[][] Completions) Encode(string origin, TextOrMessages prompt, params TextOrMessages[] completions)
    {
        if (completions.Any(c => c.IsConversational != prompt.IsConversational))
            throw new TrainingException($"{origin}: prompt and completions must all be strings or all be message lists");
        if (!prompt.IsConversational)
            return (EncodeWithLeadingSpecials(prompt.Text), completions.Select(c => AppendEos(Tokenizer.Encode(c.Text, addSpecialTokens: false))).ToArray());

        string promptText = RenderPrompt(origin, prompt);
        var result = new int[completions.Length][];
        for (int i = 0; i < completions.Length; i++)
        {
            string full = Guard(origin, () => RequireTemplate(origin).Render(prompt.Concat(completions[i]).Messages, _options with { AddGenerationPrompt = false }).Text);
            if (!full.StartsWith(promptText, StringComparison.Ordinal))
                throw new TrainingException($"{origin}: the chat template renders the prompt differently once a reply follows it, so the completion cannot be split off " +
                    $"(prompt render: {Snippet(promptText)}; full render: {Snippet(full)}); use a template whose render with add_generation_prompt is a prefix of the full conversation");
            result[i] = Tokenizer.Encode(full[promptText.Length..], addSpecialTokens: false);
        }
        return (Tokenizer.Encode(promptText, addSpecialTokens: false), result);
    }

    // ---- helpers --------------------------------------------------------------------------------

    string RenderPrompt(string origin, TextOrMessages prompt) =>
        Guard(origin, () => RequireTemplate(origin).Render(prompt.Messages, _options with { AddGenerationPrompt = true }).Text);

    /// <summary>Encodes with special tokens but drops any the post-processor appends after the text (e.g. an EOS), so a prompt can be continued.</summary>
    int[] EncodeWithLeadingSpecials(string text)
    {
        var encoded = Tokenizer.EncodeWithOffsets(text, addSpecialTokens: true);
        int n = encoded.Ids.Length;
        if (text.Length > 0)
            while (n > 0 && encoded.IsSpecial[n - 1] && encoded.Offsets[n - 1] == (text.Length, text.Length)) n--;
        return encoded.Ids[..n];
    }

    int[] AppendEos(int[] ids) => ids.Length > 0 && ids[^1] == EosId ? ids : [.. ids, EosId];

    ChatTemplate RequireTemplate(string origin) => Template ?? throw new TrainingException(
        $"{origin}: the row is conversational but there is no chat template; add chat_template to tokenizer_config.json or pass one (e.g. BuiltInTemplates.Get(\"chatml\"))");

    static T Guard<T>(string origin, Func<T> render)
    {
        try { return render(); }
        catch (TemplateException e) { throw new TrainingException($"{origin}: the chat template failed on this row: {e.Message}"); }
    }

    int? TokenId(string? token, string name) => token is null ? null
        : Tokenizer.TokenToId(token) ?? throw new TrainingException($"{name} \"{token}\" is not in the tokenizer's vocabulary; fix {name} in tokenizer_config.json");

    static string Snippet(string s) => System.Text.Json.JsonSerializer.Serialize(s.Length <= 80 ? s : "…" + s[^80..]);
}
