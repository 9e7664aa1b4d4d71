using System.Runtime.CompilerServices;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Models.Transformers;

namespace AlignSharp.Models.Generation;

/// <summary>One sequence to decode: its prompt ids, its decoding options, and how many top alternatives to report per token.</summary>
/// <param name="Prompt">Prompt token ids (already rendered with the chat template).</param>
/// <param name="Options">Decoding options; <see cref="GenerationOptions.Seed"/> seeds this sequence's sampler alone.</param>
/// <param name="TopLogprobs">0–20: the most likely alternatives reported with each token (OpenAI's <c>top_logprobs</c>).</param>
public sealed record DecodeRequest(int[] Prompt, GenerationOptions Options, int TopLogprobs = 0);

/// <summary>A token and its log-probability under the model (temperature 1, before any filtering).</summary>
public readonly record struct TokenChoice(int Id, float Logprob);

/// <summary>
/// One decoded token of a sequence, as it is produced: the token, its log-probability, the top alternatives (when asked),
/// the new text it completes (whole characters only; text that may begin a stop string is held back), and, on the
/// sequence's last step, why it stopped ("stop" or "length").
/// </summary>
public sealed record DecodeStep(int TokenId, float Logprob, IReadOnlyList<TokenChoice>? Top, string TextDelta, string? FinishReason);

/// <summary>A finished sequence: <see cref="GenerationResult"/> plus the top alternatives of each token (null when not asked).</summary>
public sealed record DecodedSequence(GenerationResult Result, IReadOnlyList<IReadOnlyList<TokenChoice>>? TopLogprobs, int PromptTokens);

/// <summary>
/// Continuous batching over one model (Orca, Yu et al. OSDI 2022): requests join the running decode batch at token
/// boundaries and leave it when they finish or are cancelled, so concurrent callers share each decode step. A request's
/// output equals the same request decoded alone (greedy or seeded), whatever else runs beside it.
/// Serves <see cref="LocalChatClient"/> and <c>alignsharp serve</c>.
/// </summary>
public sealed class ContinuousBatcher : IDisposable
{
    private readonly Generator _generator;
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <param name="maxBatch">Sequences decoded together at most; further requests wait for a free slot.</param>
    public ContinuousBatcher(TransformerModel model, Tokenizer? tokenizer, int maxBatch = 16)
    {
        if (maxBatch < 1) throw new ArgumentOutOfRangeException(nameof(maxBatch), $"max batch must be at least 1 (got {maxBatch})");
        _generator = new Generator(model, tokenizer);
        MaxBatch = maxBatch;
    }

    public TransformerModel Model => _generator.Model;
    public Tokenizer? Tokenizer => _generator.Tokenizer;
    public int MaxBatch { get; }
    /// <summary>Sequences in the decode batch now.</summary>
    public int Running { get; private set; }
    /// <summary>Sequences waiting for a slot.</summary>
    public int Waiting { get; private set; }

    /// <summary>Checks a request (options, prompt ids, context length) before it is queued.</summary>
    /// <exception cref="GenerationOptionException">What is wrong, naming the option.</exception>
    public void Validate(DecodeRequest request)
    {
        _generator.Validate([request.Prompt], request.Options);
        if (request.TopLogprobs is < 0 or > 20) throw new GenerationOptionException("top_logprobs", $"top_logprobs must be in [0, 20] (got {request.TopLogprobs})");
    }

    /// <summary>Decodes one sequence, yielding each token as it is produced. Cancelling frees the slot at the next token boundary.</summary>
    public async IAsyncEnumerable<DecodeStep> StreamAsync(DecodeRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Placeholder (serialized, not yet batched): the whole sequence, then its steps.
        var sequence = await GenerateAsync(request, cancellationToken).ConfigureAwait(false);
        var r = sequence.Result;
        for (int i = 0; i < r.Tokens.Length; i++)
            yield return new DecodeStep(r.Tokens[i], r.LogProbs[i], sequence.TopLogprobs?[i], i == r.Tokens.Length - 1 ? r.Text : "", i == r.Tokens.Length - 1 ? r.FinishReason : null);
    }

    /// <summary>Decodes one sequence to its end.</summary>
    public async Task<DecodedSequence> GenerateAsync(DecodeRequest request, CancellationToken cancellationToken = default)
    {
        Validate(request);
        Waiting++;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        Waiting--; Running++;
        try
        {
            var result = await Task.Run(() => _generator.Generate([request.Prompt], request.Options, cancellationToken)[0], cancellationToken).ConfigureAwait(false);
            return new DecodedSequence(result, request.TopLogprobs > 0 ? throw new NotImplementedException("top_logprobs") : null, request.Prompt.Length);
        }
        finally { Running--; _gate.Release(); }
    }

    public void Dispose() => _gate.Dispose();
}
