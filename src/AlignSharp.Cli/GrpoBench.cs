using System.Diagnostics;
using AlignSharp.Feedback;
using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;
using AlignSharp.Training.Online;
using AlignSharp.Training.Optim;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Cli;

/// <summary>
/// `alignsharp bench grpo`: GRPO steps of the bench-decode Llama (random weights, a byte-level BPE of 8192 tokens
/// trained on generated text), full fine-tuning: each step samples a generation batch (prompts × num_generations
/// completions of max_completion_length tokens), scores it (a programmatic reward), takes the reference log-probs
/// (β &gt; 0) and trains on it. Prints the step split generate / score / reference / train, the rollout tokens/s at the
/// generation batch against batch 1 (the same sampler, one completion), and the train part against SFT steps on the
/// same rows (forward, cross-entropy on the completion tokens, backward, AdamW, same micro-batches) in the same run.
/// </summary>
internal static class GrpoBench
{
    internal static readonly CommandSpec Spec = new("bench grpo", "[--prompts P] [--generations G] [--new-tokens N]",
        "one GRPO step of the bench-decode Llama split into generate / score / reference / train; rollout batch vs batch 1, train part vs SFT on the same tokens",
        new("prompts", "P", "prompts per generation batch", "8"),
        new("generations", "G", "completions per prompt (num_generations)", "8"),
        new("new-tokens", "N", "max_completion_length", "128"),
        new("batch", "B", "per_device_train_batch_size (gradient_accumulation_steps = P·G ÷ B)", "16"),
        new("steps", "S", "timed GRPO steps after one warm-up step", "2"),
        new("threads", "T", "worker threads", "ALIGNSHARP_THREADS or all cores"));

    /// <summary>A cheap programmatic reward: the share of a completion's characters that are ASCII letters.</summary>
    private sealed class LetterShare : ISignalSource
    {
        public string Name => "letters";
        public string Fingerprint => "letters@v1";
        public FeedbackLabel? Score(PromptRecord prompt, string response) =>
            new(response.Length == 0 ? 0 : response.Count(char.IsAsciiLetter) / (double)response.Length, "", new Provenance(Name, SignalKind.Verifier));
    }

    public static int Run(Options o, TextWriter stdout)
    {
        int prompts = o.Int("prompts", 8, 1), generations = o.Int("generations", 8, 2), newTokens = o.Int("new-tokens", 128, 1);
        int batch = o.Int("batch", 16, 1), steps = o.Int("steps", 2, 1);
        WorkerPool.SetDefaultThreads(o.Int("threads", WorkerPool.Default.Threads));
        int rows = prompts * generations;
        if (rows % batch != 0) throw new UsageException($"bench grpo: prompts × generations ({rows}) must be a multiple of --batch ({batch})");

        var tokenizer = BpeTrainer.Train(TokenizerCommand.SplitLinesKeepingNewlines(SyntheticText.Generate(300_000)),
            new BpeTrainerOptions(8192, ["<|im_start|>", "<|im_end|>"], 2, TokenizerStyle.Llama3));
        var encoder = new ExampleTokenizer(tokenizer, BuiltInTemplates.Get("chatml"), new ChatTemplateOptions { EosToken = "<|im_end|>" }, padToken: "<|im_end|>");
        var config = ModelPresets.Get("bench-decode", Architecture.Llama) with { VocabSize = tokenizer.VocabSize, EosTokenIds = [tokenizer.TokenToId("<|im_end|>")!.Value] };
        var words = SyntheticText.Generate(20_000, seed: 7).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var prompts2 = Enumerable.Range(0, prompts * (steps + 1)).Select(i => new PromptRecord($"p{i}",
            "Write about " + string.Join(' ', words.Skip(i * 12).Take(12)), "", new Dictionary<string, string>())).ToList();
        string output = Path.Combine(Path.GetTempPath(), "alignsharp-bench-grpo-" + Environment.ProcessId);
        try
        {
            var args = new TrainingArguments
            {
                Model = "bench-decode", Dataset = "prompts", OutputDir = output, OverwriteOutputDir = true, LearningRate = 1e-6f, MaxSteps = steps + 1,
                PerDeviceTrainBatchSize = batch, GradientAccumulationSteps = rows / batch, SaveSteps = 1_000_000, SaveTotalLimit = 1, LoggingSteps = 1, Seed = 1,
            };
            var options = new GrpoOptions { NumGenerations = generations, MaxCompletionLength = newTokens, Beta = 0.04f };
            var model = new FullCausalLm(TransformerModel.Create(config, seed: 1));
            var split = new List<(double Step, double Generate, double Score, double Reference, double Tokens)>();
            using (var trainer = new GrpoTrainer(args, model, prompts2, encoder, new RewardFunctions([new RewardFunction(new LetterShare())]), options) { OwnsModel = false })
            {
                var clock = Stopwatch.StartNew();
                trainer.Progress += p =>
                {
                    split.Add((clock.Elapsed.TotalSeconds, p.Metrics["timing/generate"], p.Metrics["timing/score"], p.Metrics["timing/prepare"],
                        p.Metrics["completions/mean_length"] * rows));
                    clock.Restart();
                };
                trainer.Train();
            }
            var timed = split.Skip(1).ToList();
            double step = timed.Average(s => s.Step), generate = timed.Average(s => s.Generate), score = timed.Average(s => s.Score);
            double reference = timed.Average(s => s.Reference), train = step - generate - score - reference, tokens = timed.Average(s => s.Tokens);
            stdout.WriteLine($"model: Llama bench-decode {model.Transformer.ParameterCount / 1e6:F1}M parameters (full fine-tuning), {prompts} prompts × {generations} completions of ≤ {newTokens} tokens, " +
                             $"micro-batches of {batch} × {rows / batch}, β 0.04, {WorkerPool.Default.Threads} threads");
            stdout.WriteLine($"grpo step: {step:F2} s = generate {generate:F2} s ({generate / step:P0}) + score {score:F3} s + reference {reference:F2} s ({reference / step:P0}) + train {train:F2} s ({train / step:P0}); {tokens:F0} completion tokens");

            // Rollouts at batch 1: the fastest one-sequence path (default kernels, GEMV), one prompt, one completion at a time.
            var sampler = new PolicySampler(model.Transformer, encoder);
            sampler.Sample([prompts2[0]], 1, 1f, 3, newTokens);
            var sw = Stopwatch.StartNew();
            int singleTokens = 0;
            for (int i = 0; i < 2; i++) singleTokens += sampler.Sample([prompts2[i]], 1, 1f, (ulong)i, newTokens)[0][0].CompletionIds.Length;
            double single = singleTokens / sw.Elapsed.TotalSeconds, batched = tokens / generate;
            stdout.WriteLine($"rollout: {batched:F0} tokens/s at batch {rows} vs {single:F0} tokens/s at batch 1: {batched / single:F1}×");

            // SFT on the same rows, micro-batches and optimizer: forward, cross-entropy on the completion tokens, backward, AdamW.
            double sft = SftSeconds(model, encoder, prompts2.Take(rows / generations).ToList(), generations, newTokens, batch);
            stdout.WriteLine($"train: {tokens / train:F0} tokens/s (GRPO: forward in the sampler's blocked order, log-probs, loss, backward, AdamW) vs SFT {tokens / sft:F0} tokens/s on the same rows: {train / sft:F2}× SFT's time");
            stdout.WriteLine($"bench grpo: rollout batch {rows} {batched / single:F1}× batch 1, train part {train / sft:F2}× SFT");
            model.Dispose();
        }
        finally { if (Directory.Exists(output)) Directory.Delete(output, true); }
        return 0;
    }

    /// <summary>Seconds of one SFT step (median of three after a warm-up) over prompt + completion rows like GRPO's.</summary>
    private static double SftSeconds(FullCausalLm model, ExampleTokenizer encoder, List<PromptRecord> prompts, int generations, int newTokens, int batch)
    {
        var rng = new Rng(5);
        var rowsOf = prompts.SelectMany(p => Enumerable.Range(0, generations).Select(_ =>
        {
            var promptIds = encoder.Prompt(p.Messages, p.Id);
            var completion = Enumerable.Range(0, newTokens).Select(_ => rng.NextInt(model.Transformer.Config.VocabSize)).ToArray();
            return (promptIds, completion);
        })).ToList();
        var optimizer = new AdamW(model.Trainable.Select(t => new TrainableParameter(t.Name, t.Tensor, TrainableParameter.DefaultDecay(t.Name, t.Tensor))).ToList());
        var times = new List<double>();
        for (int repeat = 0; repeat < 4; repeat++)
        {
            var sw = Stopwatch.StartNew();
            for (int start = 0; start < rowsOf.Count; start += batch)
            {
                using var scope = new TensorScope();
                var chunk = rowsOf.Skip(start).Take(batch).ToList();
                int t = chunk.Max(r => r.promptIds.Length + r.completion.Length);
                var ids = new int[chunk.Count * t];
                var targets = Enumerable.Repeat(Ops.IgnoreIndex, chunk.Count * t).ToArray();
                var mask = new float[chunk.Count * t];
                for (int b = 0; b < chunk.Count; b++)
                {
                    var (p, c) = chunk[b];
                    p.CopyTo(ids, b * t); c.CopyTo(ids, b * t + p.Length);
                    mask.AsSpan(b * t, p.Length + c.Length).Fill(1f);
                    for (int j = 0; j < c.Length; j++) targets[b * t + p.Length - 1 + j] = c[j];
                }
                var logits = model.Transformer.Forward(ids, chunk.Count, t, Tensor.FromArray(mask, chunk.Count, t));
                Ops.CrossEntropy(logits.Reshape(chunk.Count * t, logits.Dim(2)), targets).Backward();
            }
            optimizer.Step(1e-6f);
            optimizer.ZeroGrad();
            if (repeat > 0) times.Add(sw.Elapsed.TotalSeconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }
}
