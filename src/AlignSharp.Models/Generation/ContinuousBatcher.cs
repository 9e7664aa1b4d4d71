using System.Runtime.CompilerServices;
using System.Threading.Channels;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Tensors.Kernels;

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
/// <para>
/// One background thread runs the loop: admit waiting requests while slots are free, prefill each alone (batch 1,
/// exactly <see cref="Generator"/>'s prefill of one prompt, which gives its first token), then one decode step for every
/// running sequence together (<see cref="TransformerModel.DecodeHidden"/>: the weights are read once per step for all
/// of them; attention runs per sequence against its own KV cache) under <see cref="Sgemm.RowInvariant"/>, so each row is
/// bitwise the row a one-sequence step computes. A sequence that finishes or is cancelled leaves after its step and
/// its KV cache goes back to the pool.
/// </para>
/// </summary>
public sealed class ContinuousBatcher : IDisposable
{
    private readonly Generator _generator;
    private readonly object _lock = new();
    private readonly Queue<Sequence> _queue = new();   // under _lock
    private readonly List<Sequence> _running = new(); // the loop thread's alone
    private readonly Thread _loop;
    private readonly SemaphoreSlim _wake = new(0);
    private volatile bool _disposed;
    private bool _closed; // under _lock: the loop has ended, nothing more is queued
    private int _runningCount, _waitingCount;

    /// <param name="maxBatch">Sequences decoded together at most; further requests wait for a free slot.</param>
    public ContinuousBatcher(TransformerModel model, Tokenizer? tokenizer, int maxBatch = 16)
    {
        if (maxBatch < 1) throw new ArgumentOutOfRangeException(nameof(maxBatch), $"max batch must be at least 1 (got {maxBatch})");
        _generator = new Generator(model, tokenizer);
        MaxBatch = maxBatch;
        _loop = new Thread(Loop) { IsBackground = true, Name = "alignsharp-batcher" };
        _loop.Start();
    }

    public TransformerModel Model => _generator.Model;
    public Tokenizer? Tokenizer => _generator.Tokenizer;
    public int MaxBatch { get; }
    /// <summary>Sequences in the decode batch now.</summary>
    public int Running => Volatile.Read(ref _runningCount);
    /// <summary>Sequences waiting for a slot.</summary>
    public int Waiting => Volatile.Read(ref _waitingCount);
    /// <summary>Decode steps run so far (each advances every running sequence by one token; prefills not counted).</summary>
    public long DecodeSteps => Interlocked.Read(ref _decodeSteps);
    /// <summary>The most sequences one decode step has advanced together so far.</summary>
    public int PeakBatch => Volatile.Read(ref _peakBatch);
    private long _decodeSteps;
    /// <summary>Test hook: runs on the decode thread at each token boundary (before cancelled sequences leave and waiting ones join), with <see cref="DecodeSteps"/>.</summary>
    internal Action<long>? OnTokenBoundary { get; set; }
    private int _peakBatch;

    /// <summary>Checks a request (options, prompt ids, context length) before it is queued.</summary>
    /// <exception cref="GenerationOptionException">What is wrong, naming the option.</exception>
    public void Validate(DecodeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Prompt is null) throw new GenerationOptionException(null, "the request has no prompt");
        if (request.Options is null) throw new GenerationOptionException(null, "the request has no generation options");
        _generator.Validate([request.Prompt], request.Options);
        if (request.TopLogprobs is < 0 or > 20) throw new GenerationOptionException("top_logprobs", $"top_logprobs must be in [0, 20] (got {request.TopLogprobs})");
    }

    /// <summary>
    /// Decodes one sequence, yielding each token as it is produced. Cancelling frees the slot at the next token boundary;
    /// the enumeration then throws <see cref="OperationCanceledException"/>. A bad request throws at the call, before
    /// anything is queued.
    /// </summary>
    /// <exception cref="GenerationOptionException">The request is invalid (thrown by this call, not by the enumeration).</exception>
    public IAsyncEnumerable<DecodeStep> StreamAsync(DecodeRequest request, CancellationToken cancellationToken = default)
    {
        Validate(request);
        return Steps(Submit(request, streaming: true, cancellationToken));
    }

    private static async IAsyncEnumerable<DecodeStep> Steps(Sequence sequence, [EnumeratorCancellation] CancellationToken enumeratorToken = default)
    {
        using var link = enumeratorToken.CanBeCanceled ? enumeratorToken.Register(sequence.Cancel) : default;
        try
        {
            // No token on the read: the loop completes the channel (with the cancellation) once the slot is free.
            await foreach (var step in sequence.Steps!.Reader.ReadAllAsync().ConfigureAwait(false)) yield return step;
        }
        finally { sequence.Cancel(); } // a consumer that stops early frees the slot too (no-op once finished)
    }

    /// <summary>Decodes one sequence to its end.</summary>
    /// <exception cref="GenerationOptionException">The request is invalid.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the slot is free when this is thrown.</exception>
    public Task<DecodedSequence> GenerateAsync(DecodeRequest request, CancellationToken cancellationToken = default)
    {
        Validate(request);
        return Submit(request, streaming: false, cancellationToken).Done.Task;
    }

    private Sequence Submit(DecodeRequest request, bool streaming, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var sequence = new Sequence(this, request, streaming, cancellationToken);
        lock (_lock)
        {
            if (_closed) throw new ObjectDisposedException(nameof(ContinuousBatcher));
            _queue.Enqueue(sequence);
            Interlocked.Increment(ref _waitingCount);
        }
        if (cancellationToken.CanBeCanceled) sequence.Registration = cancellationToken.Register(sequence.Cancel);
        _wake.Release();
        return sequence;
    }

    /// <summary>Called when a sequence is cancelled: a waiting one leaves the queue now; a running one at the next token boundary.</summary>
    private void OnCancel(Sequence sequence)
    {
        bool removed = false;
        lock (_lock)
        {
            if (!sequence.Admitted && _queue.Contains(sequence))
            {
                var rest = _queue.Where(s => s != sequence).ToList();
                _queue.Clear();
                foreach (var s in rest) _queue.Enqueue(s);
                Interlocked.Decrement(ref _waitingCount);
                removed = true;
            }
        }
        if (removed) sequence.Fail(new OperationCanceledException(sequence.CancellationToken));
        else _wake.Release();
    }

    private void Loop()
    {
        using var noGrad = Autograd.NoGrad();
        var logits = new float[Model.Config.VocabSize];
        while (true)
        {
            if (_running.Count == 0 && Waiting == 0)
            {
                _wake.Wait();
                if (_disposed) break;
            }
            else if (_disposed) break;
            while (_wake.CurrentCount > 0) _wake.Wait(0); // every wake-up is served by this pass

            try
            {
                OnTokenBoundary?.Invoke(DecodeSteps);
                // Leave: cancelled sequences free their slots before anything else runs.
                for (int i = _running.Count - 1; i >= 0; i--)
                    if (_running[i].CancelRequested) Leave(_running[i], new OperationCanceledException(_running[i].CancellationToken));

                // Join: admit and prefill waiting requests while slots are free (each prefill gives its first token).
                while (_running.Count < MaxBatch && Admit() is { } sequence)
                {
                    try { Prefill(sequence, logits); }
                    catch (Exception e) { Leave(sequence, e); }
                }

                // One decode step for every running sequence together.
                if (_running.Count > 0) DecodeStep();
            }
            catch (Exception e)
            {
                // A failure outside one sequence's own work: fault those in the batch, keep serving the others.
                foreach (var s in _running.ToList()) Leave(s, e);
            }
        }
        // Disposed: nothing more will run.
        foreach (var s in _running.ToList()) Leave(s, new ObjectDisposedException(nameof(ContinuousBatcher)));
        List<Sequence> left;
        lock (_lock) { _closed = true; left = _queue.ToList(); _queue.Clear(); }
        foreach (var s in left) { Interlocked.Decrement(ref _waitingCount); s.Fail(new ObjectDisposedException(nameof(ContinuousBatcher))); }
    }

    /// <summary>The next waiting request, now running (null when none waits).</summary>
    private Sequence? Admit()
    {
        lock (_lock)
        {
            if (!_queue.TryDequeue(out var sequence)) return null;
            sequence.Admitted = true;
            Interlocked.Decrement(ref _waitingCount);
            Interlocked.Increment(ref _runningCount);
            _running.Add(sequence);
            return sequence;
        }
    }

    /// <summary>Removes a sequence from the batch (its slot and KV cache freed), then completes it: with its result, or with the error.</summary>
    private void Leave(Sequence sequence, Exception? error)
    {
        if (!_running.Remove(sequence)) return;
        sequence.Cache?.Dispose();
        sequence.Cache = null;
        Interlocked.Decrement(ref _runningCount);
        if (error is null) sequence.Complete();
        else sequence.Fail(error);
    }

    /// <summary>The prompt alone, exactly as <see cref="Generator"/> prefills a one-prompt batch; its last position gives the first token.</summary>
    private void Prefill(Sequence sequence, float[] logits)
    {
        var prompt = sequence.Request.Prompt;
        var options = sequence.Request.Options;
        var config = Model.Config;
        int length = prompt.Length;
        int capacity = Math.Min(config.MaxPositions, length + options.MaxNewTokens);
        if (options.MaxNewTokens == 0 || length > capacity) { Leave(sequence, null); return; }
        sequence.Cache = new KvCache(config, 1, capacity);
        var mask = new float[length];
        Array.Fill(mask, 1f);
        var positions = Enumerable.Range(0, length).ToArray();
        using var scope = new TensorScope();
        var hidden = Model.Hidden(prompt, 1, length, Tensor.FromArray(mask, 1, length), positions, sequence.Cache);
        var rowLogits = Model.LmHead(Ops.Narrow(hidden, 1, length - 1, 1)).Span;
        if (sequence.Next(rowLogits, logits)) Leave(sequence, null);
    }

    /// <summary>One token for every running sequence: one batched step under row invariance, then each row's sampling.</summary>
    private void DecodeStep()
    {
        var batch = _running.ToArray();
        var ids = batch.Select(s => s.Generated[^1]).ToArray();
        var caches = batch.Select(s => s.Cache!).ToArray();
        int vocab = Model.Config.VocabSize;
        var done = new bool[batch.Length];
        using (var scope = new TensorScope())
        {
            Tensor logitsTensor;
            using (Sgemm.RowInvariant()) logitsTensor = Model.LmHead(Model.DecodeHidden(ids, caches));
            var all = logitsTensor.Data;
            int offset = logitsTensor.Offset;
            Interlocked.Increment(ref _decodeSteps);
            if (batch.Length > _peakBatch) Volatile.Write(ref _peakBatch, batch.Length);
            // Each row's sampling, top-k and text are its own (own sampler, own history): rows run in parallel.
            var errors = new Exception?[batch.Length];
            void Row(int b)
            {
                try { done[b] = batch[b].Next(all.AsSpan(offset + b * vocab, vocab), new float[vocab]); }
                catch (Exception e) { errors[b] = e; }
            }
            if (batch.Length == 1) Row(0);
            else WorkerPool.Current.For(batch.Length, Row);
            for (int b = 0; b < batch.Length; b++)
                if (errors[b] is { } e) Leave(batch[b], e);
                else if (done[b]) Leave(batch[b], null);
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _wake.Release();
        _loop.Join();
        _wake.Dispose();
    }

    /// <summary>One request's state: its KV cache, sampler, tokens so far, the text sent, and where its output goes.</summary>
    private sealed class Sequence
    {
        private readonly ContinuousBatcher _owner;
        private readonly Sampler _sampler;
        private readonly HashSet<int> _stopIds;
        private readonly List<float> _logprobs = new();
        private readonly List<IReadOnlyList<TokenChoice>>? _top;
        private string _sent = "";
        private string? _cutText;
        private string? _finish;
        private int _cancelled;

        public Sequence(ContinuousBatcher owner, DecodeRequest request, bool streaming, CancellationToken cancellationToken)
        {
            _owner = owner;
            Request = request;
            CancellationToken = cancellationToken;
            _sampler = new Sampler(request.Options);
            _stopIds = new HashSet<int>(request.Options.StopTokenIds ?? owner.Model.Config.EosTokenIds);
            _top = request.TopLogprobs > 0 ? new() : null;
            if (streaming) Steps = Channel.CreateUnbounded<DecodeStep>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        }

        public DecodeRequest Request { get; }
        public CancellationToken CancellationToken { get; }
        public CancellationTokenRegistration Registration { get; set; }
        public Channel<DecodeStep>? Steps { get; }
        public TaskCompletionSource<DecodedSequence> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public KvCache? Cache { get; set; }
        public bool Admitted { get; set; }
        public List<int> Generated { get; } = new();
        public bool CancelRequested => Volatile.Read(ref _cancelled) != 0;

        public void Cancel()
        {
            if (Done.Task.IsCompleted || Interlocked.Exchange(ref _cancelled, 1) != 0) return;
            _owner.OnCancel(this);
        }

        /// <summary>
        /// Takes the next token from this sequence's logits row (raw, not modified), as <see cref="Generator"/> does:
        /// log-prob = logit − logsumexp (at the sampling temperature with LogProbsAtTemperature), the sampler draws from a
        /// copy; then the stop checks and the text delta.
        /// True when the sequence is finished.
        /// </summary>
        public bool Next(ReadOnlySpan<float> rowLogits, float[] scratch)
        {
            var options = Request.Options;
            rowLogits.CopyTo(scratch);
            float lse = Tensors.Kernels.SoftmaxKernel.LogSumExp(scratch);
            _top?.Add(TopChoices(rowLogits, lse, Request.TopLogprobs));
            int token = _sampler.Next(scratch, Request.Prompt.Concat(Generated));
            Generated.Add(token);
            float logprob = Sampler.LogProb(rowLogits, token, lse, options, scratch);
            _logprobs.Add(logprob);

            var tokenizer = _owner.Tokenizer;
            string? text = null;
            if (_stopIds.Contains(token)) _finish = "stop";
            else if (options.StopStrings.Count > 0 && tokenizer is not null)
            {
                text = _owner._generator.Decode(Generated);
                foreach (var stop in options.StopStrings)
                {
                    int at = text.IndexOf(stop, StringComparison.Ordinal);
                    if (at >= 0) { _finish = "stop"; _cutText = text[..at]; break; }
                }
            }
            // Generator's loop condition for the next step: tokens left and room in the context.
            if (_finish is null && (Generated.Count >= options.MaxNewTokens || Cache!.Length + 1 > Cache.Capacity)) _finish = "length";

            if (Steps is not null)
            {
                string delta = "";
                if (_finish is not null) delta = FinalText()[_sent.Length..];
                else if (tokenizer is not null)
                {
                    text ??= _owner._generator.Decode(Generated);
                    int safe = text.Length - HeldBack(text, options.StopStrings);
                    // Whole characters only: an incomplete UTF-8 character decodes as U+FFFD until its last byte arrives.
                    while (safe > 0 && text[safe - 1] == '\uFFFD') safe--;
                    if (safe > _sent.Length && text.StartsWith(_sent, StringComparison.Ordinal))
                    {
                        delta = text[_sent.Length..safe];
                        _sent = text[..safe];
                    }
                }
                Steps.Writer.TryWrite(new DecodeStep(token, logprob, _top?[^1], delta, _finish));
            }
            return _finish is not null;
        }

        private string FinalText() => _cutText ?? _owner._generator.Decode(Generated);

        /// <summary>Length of the longest suffix of <paramref name="text"/> that begins some stop string (it may yet become one).</summary>
        private static int HeldBack(string text, IReadOnlyList<string> stops)
        {
            int longest = 0;
            foreach (var stop in stops)
                for (int n = Math.Min(stop.Length - 1, text.Length); n > longest; n--)
                    if (text.AsSpan(text.Length - n).SequenceEqual(stop.AsSpan(0, n))) { longest = n; break; }
            return longest;
        }

        /// <summary>The k most likely tokens of the raw logits, by log-probability (descending, then id).</summary>
        private static IReadOnlyList<TokenChoice> TopChoices(ReadOnlySpan<float> logits, float lse, int k)
        {
            var best = new List<TokenChoice>(k + 1);
            for (int id = 0; id < logits.Length; id++)
            {
                float lp = logits[id] - lse;
                if (best.Count == k && !(lp > best[^1].Logprob)) continue; // ties keep the smaller id, already in
                int at = best.Count;
                while (at > 0 && lp > best[at - 1].Logprob) at--;
                best.Insert(at, new TokenChoice(id, lp));
                if (best.Count > k) best.RemoveAt(k);
            }
            return best;
        }

        /// <summary>Delivers the finished sequence (the result also ends the step stream).</summary>
        public void Complete()
        {
            Registration.Unregister(); // not Dispose: that would wait for a running Cancel callback
            var result = new GenerationResult(Generated.ToArray(), FinalText(), _logprobs.ToArray(), _finish ?? "length");
            Done.TrySetResult(new DecodedSequence(result, _top, Request.Prompt.Length));
            Steps?.Writer.TryComplete();
        }

        public void Fail(Exception error)
        {
            Registration.Unregister(); // not Dispose: that would wait for a running Cancel callback
            if (error is OperationCanceledException oce) Done.TrySetCanceled(oce.CancellationToken);
            else Done.TrySetException(error);
            Steps?.Writer.TryComplete(error);
        }
    }
}
