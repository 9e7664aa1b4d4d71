using System.Runtime.CompilerServices;
using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Models.Transformers;
using Microsoft.Extensions.AI;

namespace AlignSharp.Models.Generation;

/// <summary>
/// A local model as a Microsoft.Extensions.AI <see cref="IChatClient"/>: messages are rendered with the model's
/// chat template (add_generation_prompt), decoded with the KV-cached generator, and stopped at the template's
/// end-of-turn token. Any component that takes an IChatClient (policy, judge, teacher, red-teamer) can run on it.
/// Requests run one at a time; generation is CPU-bound and runs off the caller's thread.
/// </summary>
public sealed class LocalChatClient : IChatClient
{
    private readonly Generator _generator;
    private readonly ChatTemplate _template;
    private readonly ChatTemplateOptions _templateOptions;
    private readonly GenerationOptions _defaults;
    private readonly ChatClientMetadata _metadata;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly bool _ownsModel;

    public LocalChatClient(TransformerModel model, Tokenizer tokenizer, ChatTemplate template, ChatTemplateOptions? templateOptions = null,
        GenerationOptions? defaults = null, string modelId = "local", bool ownsModel = false)
    {
        _generator = new Generator(model, tokenizer);
        _template = template;
        _templateOptions = templateOptions ?? new ChatTemplateOptions();
        var stops = new HashSet<int>(defaults?.StopTokenIds ?? model.Config.EosTokenIds);
        if (_templateOptions.EosToken is { } eos && tokenizer.TokenToId(eos) is { } eosId) stops.Add(eosId);
        _defaults = (defaults ?? new GenerationOptions { Temperature = 0 }) with { StopTokenIds = stops.ToArray() };
        _metadata = new ChatClientMetadata("alignsharp", null, modelId);
        _ownsModel = ownsModel;
    }

    /// <summary>A client over a model folder: its weights, tokenizer, chat template (ChatML when it has none) and generation_config.json.</summary>
    public static LocalChatClient FromFolder(string folder)
    {
        // Everything that can fail on a bad file is read before the weights, so an error leaves nothing to dispose.
        var tokenizer = Tokenizer.Load(folder);
        var template = ChatEncoder.FromFolderOrFallback(folder, out _);
        var templateOptions = ChatEncoder.OptionsFromFolder(folder);
        var defaults = GenerationDefaults.FromFolder(folder);
        var model = HuggingFaceFolder.Load(folder);
        return new LocalChatClient(model, tokenizer, template, templateOptions, defaults, Path.GetFileName(Path.GetFullPath(folder).TrimEnd('/')), ownsModel: true);
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (prompt, generation) = Prepare(messages, options);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var result = await Task.Run(() => _generator.Generate([prompt], generation, cancellationToken)[0], cancellationToken).ConfigureAwait(false);
            return new ChatResponse(new ChatMessage(ChatRole.Assistant, result.Text))
            {
                ModelId = _metadata.DefaultModelId,
                FinishReason = result.FinishReason == "stop" ? ChatFinishReason.Stop : ChatFinishReason.Length,
                Usage = new UsageDetails { InputTokenCount = prompt.Length, OutputTokenCount = result.Tokens.Length, TotalTokenCount = prompt.Length + result.Tokens.Length },
            };
        }
        finally { _gate.Release(); }
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (prompt, generation) = Prepare(messages, options);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await foreach (var piece in _generator.StreamAsync(prompt, generation, cancellationToken).ConfigureAwait(false))
                yield return new ChatResponseUpdate(ChatRole.Assistant, piece) { ModelId = _metadata.DefaultModelId };
        }
        finally { _gate.Release(); }
    }

    private (int[] Prompt, GenerationOptions Options) Prepare(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        var prompt = ChatEncoder.Encode(_generator.Tokenizer!, _template, messages, _templateOptions with { AddGenerationPrompt = true }).Ids;
        var g = _defaults;
        if (options is not null)
        {
            g = g with
            {
                Temperature = options.Temperature ?? g.Temperature,
                TopP = options.TopP ?? g.TopP,
                TopK = options.TopK ?? g.TopK,
                MaxNewTokens = options.MaxOutputTokens ?? g.MaxNewTokens,
                StopStrings = options.StopSequences?.ToList() ?? g.StopStrings,
                Seed = options.Seed is { } seed ? (ulong)seed : g.Seed,
            };
        }
        return (prompt, g);
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? _metadata
        : serviceType.IsInstanceOfType(this) ? this
        : serviceType == typeof(TransformerModel) ? _generator.Model
        : null;

    public void Dispose()
    {
        if (_ownsModel) _generator.Model.Dispose();
        _gate.Dispose();
    }
}
