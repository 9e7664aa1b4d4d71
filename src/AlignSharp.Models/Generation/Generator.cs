using System.Runtime.CompilerServices;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;

namespace AlignSharp.Models.Generation;

/// <summary>
/// KV-cached decoding for one model: prompts of different lengths are left-padded into one batch, prefilled
/// in one forward pass, then extended one token per step for every sequence at once (the rollout engine of
/// online alignment). Returns tokens, text and each token's log-probability under the model (temperature 1, or the
/// sampling temperature with <see cref="GenerationOptions.LogProbsAtTemperature"/>; before any filtering).
/// </summary>
public sealed class Generator(TransformerModel model, Tokenizer? tokenizer = null)
{
    public TransformerModel Model { get; } = model;
    public Tokenizer? Tokenizer { get; } = tokenizer;

    /// <summary>Generates a continuation for each prompt (token ids).</summary>
    public IReadOnlyList<GenerationResult> Generate(IReadOnlyList<int[]> prompts, GenerationOptions options, CancellationToken cancellationToken = default)
    {
        var results = new List<GenerationResult>();
        foreach (var r in Run(prompts, options, null, cancellationToken)) results.Add(r);
        return results;
    }

    /// <summary>Generates from one text prompt.</summary>
    public GenerationResult Generate(string prompt, GenerationOptions options, bool addSpecialTokens = true)
    {
        var t = Tokenizer ?? throw new InvalidOperationException("generate: a text prompt needs a tokenizer");
        return Generate([t.Encode(prompt, addSpecialTokens)], options)[0];
    }

    /// <summary>Streams the text of one continuation as it is generated (whole characters only).</summary>
    public async IAsyncEnumerable<string> StreamAsync(int[] prompt, GenerationOptions options, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Validate([prompt], options); // here, so a bad request throws from the first MoveNextAsync and not from inside the producer
        var channel = System.Threading.Channels.Channel.CreateUnbounded<string>();
        var producer = Task.Run(() =>
        {
            try
            {
                string sent = "";
                Run([prompt], options, (tokens, _) =>
                {
                    string text = Decode(tokens);
                    // Hold back an incomplete UTF-8 character (decoded as U+FFFD) until its last byte arrives.
                    if (text.Length > sent.Length && text.StartsWith(sent, StringComparison.Ordinal) && !text.EndsWith('\uFFFD'))
                    {
                        channel.Writer.TryWrite(text[sent.Length..]);
                        sent = text;
                    }
                }, cancellationToken).ToList();
                channel.Writer.Complete();
            }
            catch (Exception e) { channel.Writer.Complete(e); }
        }, cancellationToken);
        await foreach (var piece in channel.Reader.ReadAllAsync(cancellationToken)) yield return piece;
        await producer;
    }

    /// <summary>
    /// Checks a request before any decoding: the options' ranges, and that every prompt is non-empty, uses only ids of
    /// the model's vocabulary and fits within max_position_embeddings (generation stops when the context is full).
    /// </summary>
    /// <exception cref="GenerationOptionException">What is wrong, naming the option, the token id or the lengths.</exception>
    public void Validate(IReadOnlyList<int[]> prompts, GenerationOptions options)
    {
        options.Validate();
        var config = Model.Config;
        foreach (var prompt in prompts)
        {
            if (prompt.Length == 0) throw new GenerationOptionException(null, "every prompt needs at least one token");
            foreach (int id in prompt)
                if ((uint)id >= (uint)config.VocabSize)
                    throw new GenerationOptionException(null, $"prompt token id {id} is outside the model's vocabulary (vocab_size {config.VocabSize}: ids 0-{config.VocabSize - 1})");
            // A prompt filling the whole context still gives one token (the last position's logits); a longer one cannot be run.
            if (prompt.Length > config.MaxPositions)
                throw new GenerationOptionException(null, $"the prompt has {prompt.Length} tokens, more than the model's context " +
                    $"(max_position_embeddings {config.MaxPositions}); shorten it to at most {config.MaxPositions} tokens");
        }
    }

    /// <summary>
    /// The text of generated ids. An embedding may have rows past the tokenizer (padded vocabularies: Qwen2 has 151936 rows
    /// for 151665 tokens); such an id has no text and is skipped, as Hugging Face's decode skips ids it does not know.
    /// </summary>
    internal string Decode(IReadOnlyList<int> tokens)
    {
        if (Tokenizer is not { } t) return "";
        return t.Decode(tokens.Where(id => t.IdToToken(id) is not null).ToArray(), skipSpecialTokens: true);
    }

    private IEnumerable<GenerationResult> Run(IReadOnlyList<int[]> prompts, GenerationOptions options, Action<List<int>, int>? onToken, CancellationToken ct)
    {
        Validate(prompts, options);
        var config = Model.Config;
        int batch = prompts.Count;
        if (batch == 0) return [];
        int promptLength = prompts.Max(p => p.Length);
        int capacity = Math.Min(config.MaxPositions, promptLength + options.MaxNewTokens);
        var stopIds = new HashSet<int>(options.StopTokenIds ?? config.EosTokenIds);

        var padded = LeftPaddedBatch.Of(prompts);
        int[] ids = padded.Ids, positions = padded.Positions;
        float[] mask = padded.Mask;
        var next = prompts.Select(p => p.Length).ToArray();

        var generated = Enumerable.Range(0, batch).Select(_ => new List<int>()).ToArray();
        var logProbs = Enumerable.Range(0, batch).Select(_ => new List<float>()).ToArray();
        var finish = new string?[batch];
        var samplers = Enumerable.Range(0, batch).Select(b => new Sampler(options.ForRow(b))).ToArray();
        var texts = new string?[batch];
        using var cache = new KvCache(config, batch, capacity);
        // Under NoGrad a LoRA adapter applies no dropout (LoraAdapters.Apply), so decoding never touches the model's
        // adapters: it may share the model with a trainer or another generator.
        using var noGrad = Autograd.NoGrad();
        int[] stepIds = ids, stepPositions = positions;
        float[]? stepMask = mask;
        int stepLength = promptLength;
        int vocab = config.VocabSize;
        var rowBuffers = new float[batch][];   // per row: its logits, filtered in place by the sampler
        var chosen = new int[batch];
        var chosenLogProbs = new float[batch];
        for (int step = 0; step < options.MaxNewTokens && cache.Length + stepLength <= capacity; step++)
        {
            ct.ThrowIfCancellationRequested();
            using (var scope = new TensorScope())
            {
                var maskTensor = stepMask is null ? null : Tensor.FromArray(stepMask, batch, stepLength);
                var hidden = Model.Hidden(stepIds, batch, stepLength, maskTensor, stepPositions, cache);
                // Only the last position of each row is needed: take it before the LM head.
                var last = Ops.Narrow(hidden, 1, stepLength - 1, 1);
                var stepLogits = Model.LmHead(last);   // [B, 1, V]
                // Each row draws from its own seeded sampler, so rows are sampled in parallel with the same result as
                // one after another (at batch 64 the vocabulary sort and softmax of each row cost more than the forward).
                WorkerPool.Current.For(batch, b =>
                {
                    if (finish[b] is not null) return;
                    var row = stepLogits.Span.Slice(b * vocab, vocab);
                    var buffer = rowBuffers[b] ??= new float[vocab];
                    row.CopyTo(buffer);
                    float lse = Tensors.Kernels.SoftmaxKernel.LogSumExp(buffer);
                    chosen[b] = samplers[b].Next(buffer, prompts[b].Concat(generated[b]));
                    chosenLogProbs[b] = Sampler.LogProb(stepLogits.Span.Slice(b * vocab, vocab), chosen[b], lse, options, buffer);
                });
                for (int b = 0; b < batch; b++)
                {
                    if (finish[b] is not null) continue;
                    int token = chosen[b];
                    generated[b].Add(token);
                    logProbs[b].Add(chosenLogProbs[b]);
                    onToken?.Invoke(generated[b], b);
                    if (stopIds.Contains(token)) finish[b] = "stop";
                    else if (options.StopStrings.Count > 0 && Tokenizer is not null)
                    {
                        string text = Decode(generated[b]);
                        foreach (var stop in options.StopStrings)
                        {
                            int at = text.IndexOf(stop, StringComparison.Ordinal);
                            if (at >= 0) { finish[b] = "stop"; texts[b] = text[..at]; break; }
                        }
                    }
                }
            }
            if (finish.All(f => f is not null)) break;
            stepIds = new int[batch]; stepPositions = new int[batch]; stepMask = null; stepLength = 1;
            for (int b = 0; b < batch; b++)
            {
                stepIds[b] = generated[b].Count > 0 ? generated[b][^1] : prompts[b][^1];
                stepPositions[b] = next[b]++;
            }
        }
        return Enumerable.Range(0, batch).Select(b => new GenerationResult(
            generated[b].ToArray(), texts[b] ?? Decode(generated[b]), logProbs[b].ToArray(), finish[b] ?? "length")).ToList();
    }
}
