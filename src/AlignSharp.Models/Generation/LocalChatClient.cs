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
/// Concurrent calls share decode steps through a <see cref="ContinuousBatcher"/> (each call's output is what it would
/// be alone); generation runs on the batcher's thread, off the caller's.
/// <para>
/// Responses carry the exact token ids in <c>AdditionalProperties["token_ids"]</c> (int[]) and the prompt's in
/// <c>AdditionalProperties["prompt_token_ids"]</c>; when <see cref="ChatLogprobs.Requested"/>, the log-prob of each token
/// (and its top alternatives) through <see cref="ChatLogprobs"/>, each token's text being that one id decoded.
/// </para>
/// </summary>
public sealed class LocalChatClient : IChatClient
{
    /// <summary>Key in <see cref="ChatResponse.AdditionalProperties"/>: the generated token ids (int[]).</summary>
    public const string TokenIdsKey = "token_ids";
    /// <summary>Key in <see cref="ChatResponse.AdditionalProperties"/>: the rendered prompt's token ids (int[]).</summary>
    public const string PromptTokenIdsKey = "prompt_token_ids";

    private readonly ContinuousBatcher _batcher;
    private readonly Tokenizer _tokenizer;
    private readonly ChatTemplate _template;
    private readonly ChatTemplateOptions _templateOptions;
    private readonly GenerationOptions _defaults;
    private readonly ChatClientMetadata _metadata;
    private readonly bool _ownsModel;

    /// <param name="maxBatch">Calls decoded together at most; further calls wait for a free slot.</param>
    public LocalChatClient(TransformerModel model, Tokenizer tokenizer, ChatTemplate template, ChatTemplateOptions? templateOptions = null,
        GenerationOptions? defaults = null, string modelId = "local", bool ownsModel = false, int maxBatch = 16)
    {
        _batcher = new ContinuousBatcher(model, tokenizer, maxBatch);
        _tokenizer = tokenizer;
        _template = template;
        _templateOptions = templateOptions ?? new ChatTemplateOptions();
        var stops = new HashSet<int>(defaults?.StopTokenIds ?? model.Config.EosTokenIds);
        if (_templateOptions.EosToken is { } eos && tokenizer.TokenToId(eos) is { } eosId) stops.Add(eosId);
        _defaults = (defaults ?? new GenerationOptions { Temperature = 0 }) with { StopTokenIds = stops.ToArray() };
        _metadata = new ChatClientMetadata("alignsharp", null, modelId);
        _ownsModel = ownsModel;
    }

    /// <summary>The engine behind this client (its <see cref="ContinuousBatcher.Running"/> and <see cref="ContinuousBatcher.Waiting"/> counts).</summary>
    public ContinuousBatcher Batcher => _batcher;

    /// <summary>
    /// A client over a model folder: its weights, tokenizer, chat template (ChatML when it has none) and generation_config.json.
    /// With <paramref name="adapterFolder"/>, a PEFT LoRA adapter trained on that base is merged into the weights first
    /// (and the adapter's tokenizer is used when it has one).
    /// </summary>
    public static LocalChatClient FromFolder(string folder, string? adapterFolder = null, int maxBatch = 16)
    {
        // Everything that can fail on a bad file is read before the weights, so an error leaves nothing to dispose.
        string tokenizerFolder = adapterFolder is null ? folder : Lora.AdapterMerge.TokenizerFolder(folder, adapterFolder);
        var tokenizer = Tokenizer.Load(tokenizerFolder);
        var template = ChatEncoder.FromFolderOrFallback(tokenizerFolder, out _);
        var templateOptions = ChatEncoder.OptionsFromFolder(tokenizerFolder);
        var defaults = GenerationDefaults.FromFolder(folder);
        var model = adapterFolder is null ? HuggingFaceFolder.Load(folder) : Lora.AdapterMerge.LoadMerged(folder, adapterFolder);
        string id = Path.GetFileName(Path.GetFullPath(adapterFolder ?? folder).TrimEnd('/'));
        return new LocalChatClient(model, tokenizer, template, templateOptions, defaults, id, ownsModel: true, maxBatch);
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (prompt, generation) = Prepare(messages, options);
        int? top = ChatLogprobs.Requested(options);
        var sequence = await _batcher.GenerateAsync(new DecodeRequest(prompt, generation, top ?? 0), cancellationToken).ConfigureAwait(false);
        var result = sequence.Result;
        var response = new ChatResponse(new ChatMessage(ChatRole.Assistant, result.Text))
        {
            ResponseId = NewResponseId(),
            ModelId = _metadata.DefaultModelId,
            FinishReason = Finish(result.FinishReason),
            Usage = Usage(prompt.Length, result.Tokens.Length),
            AdditionalProperties = new() { [TokenIdsKey] = result.Tokens, [PromptTokenIdsKey] = prompt },
        };
        if (top is not null)
            ChatLogprobs.Set(response, result.Tokens.Select((id, i) => Logprob(id, result.LogProbs[i], sequence.TopLogprobs?[i])).ToList());
        return response;
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (prompt, generation) = Prepare(messages, options);
        string responseId = NewResponseId();
        int generated = 0;
        await foreach (var step in _batcher.StreamAsync(new DecodeRequest(prompt, generation), cancellationToken).ConfigureAwait(false))
        {
            generated++;
            if (step.FinishReason is null && step.TextDelta.Length == 0) continue;
            var update = new ChatResponseUpdate(ChatRole.Assistant, step.TextDelta) { ResponseId = responseId, ModelId = _metadata.DefaultModelId };
            if (step.FinishReason is { } finish)
            {
                update.FinishReason = Finish(finish);
                update.Contents.Add(new UsageContent(Usage(prompt.Length, generated)));
            }
            yield return update;
        }
    }

    private static string NewResponseId() => "chatcmpl-" + Guid.NewGuid().ToString("N");
    private static ChatFinishReason Finish(string reason) => reason == "stop" ? ChatFinishReason.Stop : ChatFinishReason.Length;
    private static UsageDetails Usage(int prompt, int output) => new() { InputTokenCount = prompt, OutputTokenCount = output, TotalTokenCount = prompt + output };

    /// <summary>A token's log-prob entry: its text is that one id decoded (special tokens included), as OpenAI returns it.</summary>
    private TokenLogprob Logprob(int id, float logprob, IReadOnlyList<TokenChoice>? top) =>
        new(TokenText(id), logprob, top?.Select(c => new TokenLogprob(TokenText(c.Id), c.Logprob)).ToList());

    private string TokenText(int id) => _tokenizer.IdToToken(id) is null ? "" : _tokenizer.Decode([id], skipSpecialTokens: false);

    private (int[] Prompt, GenerationOptions Options) Prepare(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        int[] prompt = ChatEncoder.Encode(_tokenizer, _template, messages, _templateOptions with { AddGenerationPrompt = true }).Ids;
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
        : serviceType == typeof(TransformerModel) ? _batcher.Model
        : serviceType == typeof(ContinuousBatcher) ? _batcher
        : null;

    public void Dispose()
    {
        _batcher.Dispose();
        if (_ownsModel) _batcher.Model.Dispose();
    }
}
