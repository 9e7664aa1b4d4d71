using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Generation;
using AlignSharp.Models.Lora;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Models.Transformers;

namespace AlignSharp.Serving;

/// <summary>
/// What the server serves: one model behind its <see cref="ContinuousBatcher"/>, the tokenizer and chat template that turn
/// messages into prompt ids (with add_generation_prompt, as <see cref="LocalChatClient"/> renders them), and the id
/// clients name it by. Generation stops at the template's eos token and the config's eos ids.
/// </summary>
public sealed class ServedModel : IDisposable
{
    private readonly TransformerModel? _owned;

    /// <param name="batcher">Decodes every request; the caller keeps ownership unless <see cref="FromFolder"/> made it.</param>
    /// <param name="tokenizer">Renders prompts and decodes token texts for log-probs. Its encoding cache is not thread-safe: while the
    /// server runs, nothing else should encode with this instance (the server serializes its own use).</param>
    /// <param name="template">The model's chat template.</param>
    /// <param name="templateOptions">bos/eos tokens of the template (tokenizer_config.json's).</param>
    /// <param name="modelId">The id clients send as "model" and /v1/models lists.</param>
    public ServedModel(ContinuousBatcher batcher, Tokenizer tokenizer, ChatTemplate template, ChatTemplateOptions? templateOptions, string modelId)
        : this(batcher, tokenizer, template, templateOptions, modelId, owned: null) { }

    private ServedModel(ContinuousBatcher batcher, Tokenizer tokenizer, ChatTemplate template, ChatTemplateOptions? templateOptions, string modelId, TransformerModel? owned)
    {
        if (string.IsNullOrWhiteSpace(modelId)) throw new ArgumentException("the served model id must not be empty", nameof(modelId));
        Batcher = batcher;
        Tokenizer = tokenizer;
        Template = template;
        TemplateOptions = (templateOptions ?? new ChatTemplateOptions()) with { AddGenerationPrompt = true };
        ModelId = modelId;
        var stops = new HashSet<int>(batcher.Model.Config.EosTokenIds);
        if (TemplateOptions.EosToken is { } eos && tokenizer.TokenToId(eos) is { } eosId) stops.Add(eosId);
        StopTokenIds = stops.Order().ToArray();
        _owned = owned;
    }

    public ContinuousBatcher Batcher { get; }
    public Tokenizer Tokenizer { get; }
    public ChatTemplate Template { get; }
    /// <summary>The template's options, with add_generation_prompt on.</summary>
    public ChatTemplateOptions TemplateOptions { get; }
    public string ModelId { get; }
    /// <summary>Tokens that end a completion: the template's eos token and config.json's eos_token_id(s).</summary>
    public IReadOnlyList<int> StopTokenIds { get; }
    /// <summary>The model's context length (max_position_embeddings): prompt + completion tokens at most.</summary>
    public int ContextLength => Batcher.Model.Config.MaxPositions;

    /// <summary>
    /// Loads a Hugging Face model folder (and optionally a PEFT LoRA adapter folded into its weights) with its tokenizer and chat
    /// template (ChatML when it has none: <paramref name="usedFallbackTemplate"/>), behind a new batcher of <paramref name="maxBatch"/> slots.
    /// The model id is the folder's name (the adapter's, with one). Disposing the result disposes the model and the batcher.
    /// </summary>
    public static ServedModel FromFolder(string folder, string? adapterFolder, int maxBatch, out bool usedFallbackTemplate)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: no such model folder");
        if (adapterFolder is not null && !Directory.Exists(adapterFolder)) throw new DirectoryNotFoundException($"{adapterFolder}: no such adapter folder");
        // Everything that can fail on a bad file is read before the weights, so an error leaves nothing to dispose.
        string textFolder = adapterFolder is null ? folder : AdapterMerge.TokenizerFolder(folder, adapterFolder);
        var tokenizer = Tokenizer.Load(textFolder);
        var template = ChatEncoder.FromFolderOrFallback(textFolder, out usedFallbackTemplate);
        var templateOptions = ChatEncoder.OptionsFromFolder(textFolder);
        var model = adapterFolder is null ? HuggingFaceFolder.Load(folder) : AdapterMerge.LoadMerged(folder, adapterFolder);
        try
        {
            var batcher = new ContinuousBatcher(model, tokenizer, maxBatch);
            string id = Path.GetFileName(Path.GetFullPath(adapterFolder ?? folder).TrimEnd(Path.DirectorySeparatorChar));
            return new ServedModel(batcher, tokenizer, template, templateOptions, id, model);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_owned is null) return;
        Batcher.Dispose();
        _owned.Dispose();
    }
}
