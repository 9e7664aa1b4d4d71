using System.Diagnostics;
using AlignSharp.Tensors;
using AlignSharp.Tensors.Kernels;

namespace AlignSharp.Cli;

/// <summary>`alignsharp bench ...`: speed measurements. Each prints its headline figure as the last line.</summary>
internal static class BenchCommand
{
    private static readonly OptionSpec Threads = new("threads", "T", "worker threads", "ALIGNSHARP_THREADS or all cores");

    internal static readonly CommandSpec GemmSpec = new("bench gemm", "[--m M --n N --k K] [--compare openblas]",
        "time single-precision matrix multiply (SGEMM) C = A·B in GFLOP/s",
        new("m", "M", "rows of A and C", "1024"),
        new("n", "N", "columns of B and C", "M"),
        new("k", "K", "columns of A, rows of B", "M"),
        Threads,
        new("repeat", "R", "timed runs; 0 = as many as fill about two seconds", "0"),
        new("compare", "NAME", "also time OpenBLAS through numpy in the same run and print the ratio (needs python3-numpy and libopenblas0-pthread)", null, ["openblas"]));

    internal static readonly CommandSpec OpsSpec = new("bench ops", "[--threads T]",
        "time a transformer-sized forward+backward of the core ops (medians in ms)",
        Threads,
        new("repeat", "R", "timed runs per op", "5"));

    internal static readonly CommandSpec TrainSpec = new("bench train", "[--steps N] [--compare-torch SCRIPT]",
        "AdamW training steps of the bench-small GPT-2; last line tokens/s",
        Threads,
        new("steps", "N", "timed optimizer steps (at least 3)", "8"),
        new("compare-torch", "SCRIPT", "the PyTorch reference torch_gpt2.py, run in the same command; prints throughput and memory ratios"));

    internal static readonly CommandSpec DecodeSpec = new("bench decode", "[--batch B] [--new-tokens N]",
        "greedy decoding speed of the bench-decode Llama with the KV cache; last line tokens/s",
        new("batch", "B", "sequences decoded together", "1"),
        new("new-tokens", "N", "tokens generated per sequence", "256"),
        Threads);

    internal static readonly CommandSpec TokenizerSpec = new("bench tokenizer", "[--mb N | --input FILE] [--compare node]",
        "train an 8k byte-level BPE and time encoding in MB/s",
        new("mb", "N", "megabytes of generated mixed-script text to train and encode", "4"),
        new("input", "FILE", "encode this text file instead of generated text"),
        new("vocab-size", "N", "vocabulary of the trained BPE (at least 300)", "8192"),
        new("compare", "NAME", "also time @huggingface/tokenizers and tiktoken under node in the same run", null, ["node"]));

    internal static readonly CommandSpec ServeSpec = new("bench serve", "[--clients 1,4,16,64] [--max-tokens N]",
        "aggregate completion tokens/s of `serve` (bench-decode Llama, HTTP on loopback) at several concurrent clients; last line the 16-vs-1 ratio",
        new("clients", "LIST", "comma-separated numbers of concurrent clients", "1,4,16,64"),
        new("max-tokens", "N", "tokens generated per request", "64"),
        new("rounds", "N", "requests each client sends, one after another", "max(2, 16 / clients)"),
        new("max-batch", "N", "sequences the server decodes together", "64"),
        Threads);

    public static int Run(string[] args, TextWriter stdout)
    {
        if (args.Length == 0) throw new UsageException("bench: name a benchmark (gemm, ops, train, decode, tokenizer, serve, endpoint, grpo)");
        return args[0] switch
        {
            "gemm" => Gemm(new Options(args[1..], GemmSpec), stdout),
            "ops" => OpsBench(new Options(args[1..], OpsSpec), stdout),
            "train" => TrainBench.Run(new Options(args[1..], TrainSpec), stdout),
            "decode" => DecodeBench(new Options(args[1..], DecodeSpec), stdout),
            "tokenizer" => TokenizerBench.Run(new Options(args[1..], TokenizerSpec), stdout),
            "serve" => ServeBench.Run(new Options(args[1..], ServeSpec), stdout),
            "endpoint" => EndpointBench.Run(new Options(args[1..], EndpointBench.Spec), stdout),
            "grpo" => GrpoBench.Run(new Options(args[1..], GrpoBench.Spec), stdout),
            _ => throw new UsageException($"bench: unknown benchmark '{args[0]}' (known: gemm, ops, train, decode, tokenizer, serve, endpoint, grpo)"),
        };
    }

    private static unsafe int Gemm(Options o, TextWriter stdout)
    {
        int m = o.Int("m", 1024), n = o.Int("n", m), k = o.Int("k", m);
        int threads = o.Int("threads", WorkerPool.Default.Threads), repeat = o.Int("repeat", 0);
        using var pool = new WorkerPool(threads);
        var rng = new Rng(1);
        var a = BufferPool.Rent(m * k, false); var b = BufferPool.Rent(k * n, false); var c = BufferPool.Rent(m * n, false);
        rng.FillUniform(a.AsSpan(0, m * k), -1, 1); rng.FillUniform(b.AsSpan(0, k * n), -1, 1);
        double flop = 2.0 * m * n * k;
        fixed (float* pa = a, pb = b, pc = c)
        {
            // Warm up (JIT tiers, packing buffers), then repeat enough to fill about two seconds.
            var sw = Stopwatch.StartNew();
            int warm = 0;
            while (warm < 3 || sw.Elapsed.TotalSeconds < 0.5) { Sgemm.Multiply(false, false, m, n, k, pa, k, pb, n, pc, n, false, pool); warm++; }
            double once = sw.Elapsed.TotalSeconds / warm;
            int runs = repeat > 0 ? repeat : Math.Clamp((int)(2.0 / once), 3, 1000);
            var times = new double[runs];
            for (int r = 0; r < runs; r++)
            {
                sw.Restart();
                Sgemm.Multiply(false, false, m, n, k, pa, k, pb, n, pc, n, false, pool);
                times[r] = sw.Elapsed.TotalSeconds;
            }
            Array.Sort(times);
            double median = times[runs / 2];
            double gflops = flop / median / 1e9;
            stdout.WriteLine($"threads {threads}, runs {runs}, median {median * 1e3:F2} ms, best {times[0] * 1e3:F2} ms");
            if (o.Value("compare") is { } reference)
            {
                double? other = Reference.OpenBlasGemm(reference, m, n, k, threads, stdout);
                if (other is { } r) stdout.WriteLine($"ratio to {reference} (same run): {gflops / r:F2}");
            }
            stdout.WriteLine($"gemm {m}x{n}x{k}: {gflops:F1} GFLOP/s");
        }
        return 0;
    }

    /// <summary>
    /// Greedy decoding of the bench-decode Llama (dim 384, hidden 1024, 6 layers, 6 heads, vocab 8192; random
    /// weights) from a one-token prompt, with the KV cache, as llama2.c's run.c measures it.
    /// </summary>
    private static int DecodeBench(Options o, TextWriter stdout)
    {
        int batch = o.Int("batch", 1), newTokens = o.Int("new-tokens", 256);
        WorkerPool.SetDefaultThreads(o.Int("threads", WorkerPool.Default.Threads));
        var config = AlignSharp.Models.Transformers.ModelPresets.Get("bench-decode", AlignSharp.Models.Transformers.Architecture.Llama);
        using var model = AlignSharp.Models.Transformers.TransformerModel.Create(config, seed: 1);
        var generator = new AlignSharp.Models.Generation.Generator(model);
        var prompts = Enumerable.Range(0, batch).Select(b => new[] { 1 + b }).ToArray();
        var options = new AlignSharp.Models.Generation.GenerationOptions { MaxNewTokens = newTokens, Temperature = 0, StopTokenIds = [] };
        generator.Generate(prompts, options with { MaxNewTokens = 16 }); // warm-up
        var sw = Stopwatch.StartNew();
        var results = generator.Generate(prompts, options);
        double seconds = sw.Elapsed.TotalSeconds;
        int generated = results.Sum(r => r.Tokens.Length);
        stdout.WriteLine($"model: Llama {model.ParameterCount / 1e6:F1}M parameters, batch {batch}, {newTokens} new tokens each, {WorkerPool.Default.Threads} threads");
        stdout.WriteLine($"time: {seconds:F2} s for {generated} tokens");
        stdout.WriteLine($"decode: {generated / seconds:F1} tokens/s");
        return 0;
    }

    private static int OpsBench(Options o, TextWriter stdout)
    {
        int threads = o.Int("threads", WorkerPool.Default.Threads), repeat = o.Int("repeat", 5);
        WorkerPool.SetDefaultThreads(threads);
        // Shapes of the bench-small GPT-2 step: B=4, T=256, C=384, 6 heads, V=8192.
        const int B = 4, T = 256, C = 384, NH = 6, D = C / NH, V = 8192;
        var rng = new Rng(7);
        var x = Tensor.Parameter(Tensor.Randn(rng, 1f, B, T, C));
        var hidden = Tensor.Parameter(Tensor.Randn(rng, 1f, B, T, 4 * C));
        var q = Tensor.Parameter(Tensor.Randn(rng, 1f, B, T, NH, D));
        var k = Tensor.Parameter(Tensor.Randn(rng, 1f, B, T, NH, D));
        var v = Tensor.Parameter(Tensor.Randn(rng, 1f, B, T, NH, D));
        var w = Tensor.Parameter(Tensor.Randn(rng, 0.02f, 4 * C, C));
        var gain = Tensor.Parameter(Tensor.Ones(C));
        var bias = Tensor.Parameter(Tensor.Zeros(C));
        var logits = Tensor.Parameter(Tensor.Randn(rng, 1f, B * T, V));
        var targets = Enumerable.Range(0, B * T).Select(_ => rng.NextInt(V)).ToArray();

        double total = 0;
        void Time(string name, Func<Tensor> f)
        {
            var times = new double[repeat];
            for (int r = 0; r < repeat + 1; r++)
            {
                var sw = Stopwatch.StartNew();
                using (new TensorScope()) Ops.Sum(f()).Backward();
                if (r > 0) times[r - 1] = sw.Elapsed.TotalMilliseconds;
            }
            Array.Sort(times);
            total += times[repeat / 2];
            stdout.WriteLine($"  {name,-44} {times[repeat / 2],8:F2} ms");
        }
        stdout.WriteLine($"forward+backward medians, {threads} threads:");
        Time($"attention causal [{B},{T},{NH},{D}]", () => Ops.ScaledDotProductAttention(q, k, v));
        Time($"linear [{B * T},{C}]x[{4 * C},{C}]ᵀ", () => Ops.Linear(x, w));
        Time($"gelu [{B},{T},{4 * C}]", () => Ops.Gelu(hidden));
        Time($"swiglu [{B},{T},{4 * C}]", () => Ops.SwiGlu(hidden, hidden));
        Time($"layer_norm [{B},{T},{C}]", () => Ops.LayerNorm(x, gain, bias, 1e-5f));
        Time($"rms_norm [{B},{T},{C}]", () => Ops.RmsNorm(x, gain, 1e-5f));
        Time($"add+mul broadcast [{B},{T},{C}]", () => Ops.Mul(Ops.Add(x, bias), gain));
        Time($"cross_entropy [{B * T},{V}]", () => Ops.CrossEntropy(logits, targets));
        Time($"softmax [{B * T},{V}]", () => Ops.Softmax(logits));
        stdout.WriteLine($"ops total: {total:F1} ms");
        return 0;
    }
}
