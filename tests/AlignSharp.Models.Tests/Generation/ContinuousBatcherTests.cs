using AlignSharp.Models.Generation;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;

namespace AlignSharp.Models.Tests.Generation;

/// <summary>
/// Continuous batching: requests that join and leave a running decode batch give, bitwise, what each gives decoded alone
/// by <see cref="Generator"/>; cancellation frees a slot; bad requests are refused at the call.
/// </summary>
public class ContinuousBatcherTests
{
    private static readonly Tokenizer Qwen2 = Tokenizer.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers", "qwen2"));

    private static TransformerModel Model(Architecture arch = Architecture.Llama, ulong seed = 3) =>
        TransformerModel.Create(ModelPresets.Get("tiny", arch) with { VocabSize = Qwen2.VocabSize, EosTokenIds = [] }, seed);

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    /// <summary>Sixteen different requests: prompt lengths 1–31, 3–26 new tokens, greedy and seeded sampling, some with stop strings and stop tokens.</summary>
    private static List<DecodeRequest> Requests(TransformerModel model)
    {
        var solo = new Generator(model, Qwen2);
        var requests = new List<DecodeRequest>();
        for (int i = 0; i < 16; i++)
        {
            var prompt = Enumerable.Range(0, 1 + 2 * i).Select(t => (t * 7919 + i * 104729) % 600 + 10).ToArray();
            // Request 0 runs longest: it keeps the batch busy while the others join, one per decode step.
            var options = new GenerationOptions { MaxNewTokens = i == 0 ? 40 : 3 + (i * 5) % 24, Temperature = 0 };
            if (i % 2 == 1) options = options with { Temperature = 0.8f + 0.1f * (i % 4), TopP = 0.95f, TopK = i % 3 == 0 ? 50 : 0, RepetitionPenalty = i % 5 == 0 ? 1.3f : 1f, Seed = (ulong)(1000 + i) };
            if (i % 4 == 2)
            {
                // A stop string taken from the middle of the request's own solo text, so it does stop there.
                string text = solo.Generate([prompt], options)[0].Text;
                string stop = text.Length >= 6 ? text.Substring(text.Length / 2, 2) : "";
                if (stop.Trim().Length == 2) options = options with { StopStrings = [stop, "never-produced"] };
            }
            if (i == 7) options = options with { StopTokenIds = [solo.Generate([prompt], options)[0].Tokens[2]] };
            requests.Add(new DecodeRequest(prompt, options, TopLogprobs: i % 3));
        }
        return requests;
    }

    [Theory]
    [InlineData(Architecture.Llama)]
    [InlineData(Architecture.Gpt2)]
    public async Task Requests_joining_mid_decode_equal_their_solo_runs_bitwise(Architecture arch)
    {
        using var model = Model(arch);
        var requests = Requests(model);
        using var batcher = new ContinuousBatcher(model, Qwen2, maxBatch: 16);
        var streams = new Task<List<DecodeStep>>[requests.Count];
        var results = new Task<DecodedSequence>[requests.Count];
        // The first request starts alone; request i joins at decode step i (on the decode thread: deterministic), so
        // every request enters a batch that is mid-decode and later ones leave while others run.
        batcher.OnTokenBoundary = step =>
        {
            int i = (int)step;
            if (i < 1 || i >= requests.Count) return;
            // Even requests stream, odd ones return whole; both ways are checked against the solo run.
            if (i % 2 == 0) streams[i] = Collect(batcher.StreamAsync(requests[i]));
            else results[i] = batcher.GenerateAsync(requests[i]);
        };
        streams[0] = Collect(batcher.StreamAsync(requests[0]));
        results[0] = batcher.GenerateAsync(requests[0]);
        var solo = new Generator(model, Qwen2);
        var order = Enumerable.Range(0, requests.Count);
        foreach (int i in order)
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (Volatile.Read(ref streams[i]) is null && Volatile.Read(ref results[i]) is null)
            {
                Assert.True(DateTime.UtcNow < deadline, $"request {i} was never submitted (decode steps {batcher.DecodeSteps}, running {batcher.Running}, waiting {batcher.Waiting})");
                await Task.Delay(1);
            }
            var expected = solo.Generate([requests[i].Prompt], requests[i].Options)[0];
            if (streams[i] is { } stream)
            {
                var steps = await stream.WaitAsync(TimeSpan.FromSeconds(60));
                Assert.Equal(expected.Tokens, steps.Select(s => s.TokenId).ToArray());
                Assert.Equal(Bits(expected.LogProbs), Bits(steps.Select(s => s.Logprob).ToArray()));
                Assert.Equal(expected.Text, string.Concat(steps.Select(s => s.TextDelta)));
                Assert.Equal(expected.FinishReason, steps[^1].FinishReason);
                Assert.All(steps[..^1], s => Assert.Null(s.FinishReason));
            }
            if (results[i] is { } task)
            {
                var r = (await task.WaitAsync(TimeSpan.FromSeconds(60))).Result;
                Assert.Equal(expected.Tokens, r.Tokens);
                Assert.Equal(Bits(expected.LogProbs), Bits(r.LogProbs));
                Assert.Equal(expected.Text, r.Text);
                Assert.Equal(expected.FinishReason, r.FinishReason);
            }
        }
        Assert.True(batcher.PeakBatch >= 8, $"requests overlapped (peak batch {batcher.PeakBatch})");
        Assert.Contains(requests, r => r.Options.StopStrings.Count > 0);
        Assert.Equal(0, batcher.Running);
        Assert.Equal(0, batcher.Waiting);
    }

    private static async Task<List<DecodeStep>> Collect(IAsyncEnumerable<DecodeStep> steps)
    {
        var list = new List<DecodeStep>();
        await foreach (var step in steps) list.Add(step);
        return list;
    }

    [Fact]
    public async Task Top_logprobs_are_the_log_softmax_of_the_raw_logits()
    {
        using var model = Model();
        using var batcher = new ContinuousBatcher(model, Qwen2);
        int[] prompt = [5, 9, 2, 300, 41];
        var request = new DecodeRequest(prompt, new GenerationOptions { MaxNewTokens = 6, Temperature = 1.3f, Seed = 9 }, TopLogprobs: 5);
        var sequence = await batcher.GenerateAsync(request);
        Assert.Equal(6, sequence.TopLogprobs!.Count);
        var tokens = sequence.Result.Tokens;
        for (int t = 0; t < tokens.Length; t++)
        {
            // Explicit: a full forward pass over prompt + tokens so far, log-softmax in double.
            var ids = prompt.Concat(tokens[..t]).ToArray();
            double[] logits;
            using (Autograd.NoGrad())
            using (new TensorScope())
            {
                var all = model.Forward(ids, 1, ids.Length).Span;
                logits = all.Slice((ids.Length - 1) * model.Config.VocabSize, model.Config.VocabSize).ToArray().Select(x => (double)x).ToArray();
            }
            double max = logits.Max(), lse = max + Math.Log(logits.Sum(x => Math.Exp(x - max)));
            var expected = Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).ThenBy(i => i).Take(5).ToArray();
            var top = sequence.TopLogprobs[t];
            Assert.Equal(expected, top.Select(c => c.Id).ToArray());
            for (int k = 0; k < 5; k++) Assert.Equal(logits[expected[k]] - lse, top[k].Logprob, 1e-4);
            Assert.True(top.Zip(top.Skip(1)).All(p => p.First.Logprob >= p.Second.Logprob));
            // The sampled token's own log-prob is on the same scale (temperature 1, before filtering).
            Assert.Equal(logits[tokens[t]] - lse, sequence.Result.LogProbs[t], 1e-4);
        }
    }

    [Fact]
    public async Task Cancelling_one_sequence_frees_its_slot_and_leaves_the_others_alone()
    {
        using var model = Model();
        using var batcher = new ContinuousBatcher(model, Qwen2, maxBatch: 2);
        var options = new GenerationOptions { MaxNewTokens = 40, Temperature = 0 };
        var keep = new DecodeRequest([5, 9, 2], options);
        using var cts = new CancellationTokenSource();
        using var bothQueued = new ManualResetEventSlim();
        using var checkedRunning = new ManualResetEventSlim();
        // Both requests join at the first token boundary; the caller's token is cancelled at decode step 3 (from the
        // decode thread, so at a known boundary).
        batcher.OnTokenBoundary = step =>
        {
            if (step == 0) bothQueued.Wait(TimeSpan.FromSeconds(60));
            if (step == 3) cts.Cancel();
            if (step == 4) checkedRunning.Wait(TimeSpan.FromSeconds(60)); // the other sequence is still running while the test looks
        };
        var steps = batcher.StreamAsync(new DecodeRequest([7, 7, 1, 4], options), cts.Token);
        var kept = batcher.GenerateAsync(keep);
        bothQueued.Set();
        var received = new List<DecodeStep>();
        var stream = Task.Run(async () => { await foreach (var step in steps) received.Add(step); });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stream.WaitAsync(TimeSpan.FromSeconds(60)));
        // The slot is free once the caller sees the cancellation; the other sequence runs on.
        Assert.Equal(1, batcher.Running);
        checkedRunning.Set();
        Assert.Equal(4, received.Count); // the prefill's token and decode steps 0-2
        var solo = new Generator(model, Qwen2);
        Assert.Equal(solo.Generate([keep.Prompt], options)[0].Tokens, (await kept).Result.Tokens);
        Assert.Equal(0, batcher.Running);

        // A request waiting for a slot leaves the queue at once when cancelled. The decode thread is held at a token
        // boundary (before admission) so that both requests are still waiting.
        using var reached = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        batcher.OnTokenBoundary = _ => { reached.Set(); release.Wait(TimeSpan.FromSeconds(60)); };
        var first = batcher.GenerateAsync(new DecodeRequest([3], options));
        Assert.True(reached.Wait(TimeSpan.FromSeconds(30)));
        using var waitingCts = new CancellationTokenSource();
        var waiting = batcher.GenerateAsync(new DecodeRequest([4], options), waitingCts.Token);
        Assert.Equal(2, batcher.Waiting);
        waitingCts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(1, batcher.Waiting);
        batcher.OnTokenBoundary = null;
        release.Set();
        Assert.Equal(solo.Generate([[3]], options)[0].Tokens, (await first).Result.Tokens);
        Assert.Equal(0, batcher.Running);
        Assert.Equal(0, batcher.Waiting);
    }

    [Fact]
    public async Task A_failure_in_the_decode_loop_faults_the_running_requests_and_the_loop_serves_on()
    {
        using var model = Model();
        using var batcher = new ContinuousBatcher(model, Qwen2);
        var options = new GenerationOptions { MaxNewTokens = 30, Temperature = 0 };
        batcher.OnTokenBoundary = step => { if (step == 2) throw new InvalidOperationException("boom at step 2"); };
        var first = batcher.GenerateAsync(new DecodeRequest([5, 9, 2], options));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => first.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal("boom at step 2", e.Message);
        Assert.Equal(0, batcher.Running);
        batcher.OnTokenBoundary = null;
        var next = await batcher.GenerateAsync(new DecodeRequest([5, 9, 2], options)).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(new Generator(model, Qwen2).Generate([[5, 9, 2]], options)[0].Tokens, next.Result.Tokens);
    }

    [Fact]
    public void Bad_requests_are_refused_at_the_call_naming_the_option()
    {
        using var model = Model();
        using var batcher = new ContinuousBatcher(model, Qwen2);
        var good = new GenerationOptions { MaxNewTokens = 4 };
        Assert.Equal("top_logprobs", Assert.Throws<GenerationOptionException>(() => batcher.StreamAsync(new DecodeRequest([1], good, 21))).Option);
        Assert.Equal("temperature", Assert.Throws<GenerationOptionException>(() => { _ = batcher.GenerateAsync(new DecodeRequest([1], good with { Temperature = -1 })); }).Option);
        var e = Assert.Throws<GenerationOptionException>(() => { _ = batcher.GenerateAsync(new DecodeRequest([], good)); });
        Assert.Contains("at least one token", e.Message);
        Assert.Contains("vocabulary", Assert.Throws<GenerationOptionException>(() => batcher.Validate(new DecodeRequest([model.Config.VocabSize], good))).Message);
        Assert.Equal(0, batcher.Waiting);
    }

    [Fact]
    public async Task Zero_new_tokens_and_a_full_context_finish_as_length()
    {
        using var model = Model();
        using var batcher = new ContinuousBatcher(model, Qwen2);
        var none = await batcher.GenerateAsync(new DecodeRequest([1, 2], new GenerationOptions { MaxNewTokens = 0 }));
        Assert.Empty(none.Result.Tokens);
        Assert.Equal("length", none.Result.FinishReason);
        // A prompt one short of the context: Generator gives two tokens (the prefill's and one step), so must the batcher.
        var prompt = Enumerable.Range(1, model.Config.MaxPositions - 1).ToArray();
        var options = new GenerationOptions { MaxNewTokens = 10, Temperature = 0 };
        var full = await batcher.GenerateAsync(new DecodeRequest(prompt, options));
        var expected = new Generator(model, Qwen2).Generate([prompt], options)[0];
        Assert.Equal(expected.Tokens, full.Result.Tokens);
        Assert.Equal("length", full.Result.FinishReason);
    }
}
