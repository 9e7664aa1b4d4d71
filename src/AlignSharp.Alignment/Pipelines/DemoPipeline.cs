using System.Diagnostics;
using System.Text.Json;
using AlignSharp.Alignment.Environments.DemoWorld;
using AlignSharp.Eval;
using AlignSharp.Feedback;
using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Generation;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Alignment.Pipelines;

/// <summary>
/// The automated-alignment loop of the demo, as resumable stages under runs/&lt;name&gt;:
/// world → tokenizer → base model → SFT → evaluate → for each round: sample k responses per prompt with the current
/// policy, score them with the signal sources (constitution principles, then verifiers), keep best-vs-worst pairs
/// (ties dropped), train DPO against the previous round, evaluate → report. No human label anywhere.
/// A stage that finished writes stages/&lt;stage&gt;.done; with resume, finished stages are skipped and a stage that
/// was cut off continues from its last checkpoint. The settings are kept in recipe.json, and resuming with other
/// settings is refused (<see cref="RunRecipe"/>).
/// </summary>
/// <param name="options">The recipe.</param>
/// <param name="log">Where progress lines go.</param>
/// <param name="resume">Skip finished stages and continue a cut-off one.</param>
/// <param name="progressBar">Makes a progress reporter (step, total) for a training stage with this label; null = none.</param>
public sealed class DemoPipeline(DemoOptions options, TextWriter log, bool resume, Func<string, Action<int, int>>? progressBar = null)
{
    private string Dir(params string[] parts) => Path.Combine([options.RunDir, .. parts]);
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public sealed record RoundResult(string Name, string ModelDir, AlignmentScores Scores, int Pairs);

    /// <summary>The generated world of the last <see cref="Run"/>.</summary>
    public AssistantWorld? World { get; private set; }

    public IReadOnlyList<RoundResult> Run()
    {
        // Every recipe value, and the constitution the rounds use, is checked before minutes of SFT, not after.
        options.Validate();
        var source = Signal();
        RunRecipe.CheckAndRecord(options, resume);
        Directory.CreateDirectory(Dir("stages"));
        if (!resume && Directory.Exists(Dir("stages"))) foreach (var f in Directory.EnumerateFiles(Dir("stages"))) File.Delete(f);
        var world = AssistantWorld.Generate(new WorldOptions(options.Seed, options.SftConversations, options.TrainPrompts, options.EvalPrompts,
            options.HarmfulComplianceRate, options.WrongAnswerRate, options.IgnoreFormatRate, options.MaxOperand));
        World = world;
        Directory.CreateDirectory(Dir("data"));
        world.WriteSftJsonl(Dir("data", "sft.jsonl"));
        world.WritePromptsJsonl(Dir("data", "train_prompts.jsonl"), world.TrainPrompts);
        world.WritePromptsJsonl(Dir("data", "eval_prompts.jsonl"), world.EvalPrompts);
        Log($"world: {world.Sft.Count} SFT conversations, {world.TrainPrompts.Count} alignment prompts, {world.EvalPrompts.Count} held-out prompts");

        string sftDir = options.Model.Length > 0 && options.SftEpochs == 0 ? options.Model : Dir("sft");
        if (options.Model.Length == 0)
        {
            Stage("tokenizer", () => TrainTokenizer(world));
            Stage("base", () => InitBase());
        }
        Stage("sft", () => Sft(options.Model.Length > 0 ? options.Model : Dir("base"), sftDir));

        var results = new List<RoundResult>();
        results.Add(Evaluate("SFT", sftDir, sftDir, world, 0));
        string policy = sftDir;
        for (int round = 1; round <= options.Rounds; round++)
        {
            string roundDir = Dir($"round-{round}");
            int pairs = 0;
            Stage($"round-{round}-pairs", () => pairs = BuildPairs(policy, world, source, round, roundDir));
            if (pairs == 0 && File.Exists(RowsFile(roundDir))) pairs = File.ReadLines(RowsFile(roundDir)).Count();
            string reference = policy;
            Stage($"round-{round}-train", () => Align(reference, roundDir, pairs));
            policy = Path.Combine(roundDir, "model");
            results.Add(Evaluate($"round {round}", policy, sftDir, world, pairs));
        }
        return results;
    }

    private void Log(string message) => log.WriteLine($"[{_clock.Elapsed:mm\\:ss}] {message}");

    private void Stage(string name, Action run)
    {
        string marker = Dir("stages", name + ".done");
        if (resume && File.Exists(marker)) { Log($"{name}: done earlier, skipped"); return; }
        var sw = Stopwatch.StartNew();
        _earlierTrainingTime = TimeSpan.Zero;
        run();
        File.WriteAllText(marker, DateTime.UtcNow.ToString("O"));
        // A resumed training stage also counts the time its earlier parts spent up to the checkpoint it resumed from.
        Log($"{name}: finished in {(sw.Elapsed + _earlierTrainingTime).TotalSeconds:F1} s");
    }

    private void TrainTokenizer(AssistantWorld world)
    {
        var texts = world.Sft.SelectMany(s => new[] { s.Prompt.Text + "\n", s.Response + "\n" });
        var tokenizer = BpeTrainer.Train(texts, new BpeTrainerOptions(options.TokenizerVocabSize, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], 2, TokenizerStyle.Llama3));
        tokenizer.Save(Dir("tokenizer"));
        new TokenizerConfig { EosToken = "<|im_end|>", PadToken = "<|endoftext|>", ChatTemplate = BuiltInTemplates.GetSource("chatml"), ModelMaxLength = options.MaxLength }
            .Save(Dir("tokenizer"), tokenizer);
    }

    private void InitBase()
    {
        var tokenizer = Tokenizer.Load(Dir("tokenizer"));
        var config = new ModelConfig
        {
            Architecture = Architecture.Llama, VocabSize = tokenizer.VocabSize, HiddenSize = options.HiddenSize, IntermediateSize = options.IntermediateSize,
            NumLayers = options.Layers, NumHeads = options.Heads, NumKvHeads = options.KvHeads, HeadDim = options.HiddenSize / options.Heads,
            MaxPositions = Math.Max(options.MaxLength, 128), NormEps = 1e-6f, TieWordEmbeddings = true,
            EosTokenIds = [tokenizer.TokenToId("<|im_end|>")!.Value], PadTokenId = tokenizer.TokenToId("<|endoftext|>"),
        };
        using var model = TransformerModel.Create(config, options.Seed);
        HuggingFaceFolder.Save(model, Dir("base"));
        CopyTokenizer(Dir("tokenizer"), Dir("base"));
        Log($"base: Llama {model.ParameterCount / 1e6:F2}M parameters, vocabulary {config.VocabSize}");
    }

    private static void CopyTokenizer(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json" }) File.Copy(Path.Combine(from, f), Path.Combine(to, f), overwrite: true);
    }

    private void Sft(string start, string output)
    {
        var args = new TrainingArguments
        {
            Model = start, Dataset = Dir("data", "sft.jsonl"), OutputDir = output, LearningRate = options.SftLearningRate,
            LrSchedulerType = "cosine", WarmupRatio = 0.05f, NumTrainEpochs = options.SftEpochs, PerDeviceTrainBatchSize = options.SftBatchSize,
            AssistantOnlyLoss = true, MaxLength = options.MaxLength, LoggingSteps = 10, SaveSteps = 200, Seed = options.Seed, Resume = resume, OverwriteOutputDir = !resume,
        };
        var encoder = Encoder(start);
        var examples = new JsonlDataset(args.Dataset).Select(r => encoder.Sft(r, new SftOptions { MaxLength = options.MaxLength, AssistantOnlyLoss = true })).ToList();
        using var trainer = new SftTrainer(args, new FullCausalLm(HuggingFaceFolder.Load(start)), examples, encoder.PadId, encoder.EosId);
        Train(trainer, "sft", output);
        CopyTokenizer(start, output);
    }

    /// <summary>Training time of the current stage's earlier, interrupted parts (from the checkpoint it resumed from).</summary>
    private TimeSpan _earlierTrainingTime;

    private void Train(Trainer trainer, string label, string output)
    {
        var start = trainer.PrepareRun();
        _earlierTrainingTime += start.EarlierElapsed;
        using var metrics = new AlignSharp.Training.Metrics.MetricsLogger(
            new AlignSharp.Training.Metrics.TensorBoardWriter(Path.Combine(output, "logs"), start.TruncateMetricsAfter),
            new AlignSharp.Training.Metrics.JsonlMetricsWriter(output, start.TruncateMetricsAfter));
        trainer.AddMetricsSink(metrics.Log);
        if (progressBar?.Invoke($"  {label}") is { } bar) trainer.Progress += p => bar((int)p.Step, (int)p.TotalSteps);
        var result = trainer.Train();
        Log($"{label}: {result.Steps} steps, final loss {result.FinalLoss:F4}");
    }

    /// <summary>
    /// The automated signal, all from the constitution: "lexicographic" ranks by the harm/helpfulness principles first
    /// (refuse_harmful, help_benign) and only then by correctness (answers, formats); "weighted" averages all principles.
    /// </summary>
    private ISignalSource Signal()
    {
        var constitution = Constitution.Load(options.Constitution, WorldChecks.All);
        if (options.Signal == "weighted") return new ConstitutionSource(constitution);
        if (options.Signal != "lexicographic") throw new AlignSharp.Training.TrainingException($"signal: '{options.Signal}' is not lexicographic or weighted");
        string[] safetyChecks = ["refuse_harmful", "help_benign"];
        var safety = constitution with { Name = constitution.Name + "/principles", Principles = constitution.Principles.Where(p => safetyChecks.Contains(p.Check)).ToList() };
        var quality = constitution with { Name = constitution.Name + "/correctness", Principles = constitution.Principles.Where(p => !safetyChecks.Contains(p.Check)).ToList() };
        if (safety.Principles.Count == 0 || quality.Principles.Count == 0) return new ConstitutionSource(constitution);
        return new Lexicographic(new ConstitutionSource(safety), new ConstitutionSource(quality));
    }

    /// <summary>
    /// Samples k responses per alignment prompt from the policy, scores each once (labels.jsonl) and writes the
    /// training data of the method: best-vs-worst pairs (pairs.jsonl, ties dropped) for DPO, or every scored sample
    /// labelled desirable or not (unpaired.jsonl, TRL's unpaired preference format) for KTO. Returns the row count.
    /// </summary>
    private int BuildPairs(string policyDir, AssistantWorld world, ISignalSource source, int round, string roundDir)
    {
        Directory.CreateDirectory(roundDir);
        var samples = Sample(policyDir, world.TrainPrompts, options.SamplesPerPrompt, options.SampleTemperature, options.Seed + (ulong)round * 7919);
        bool kto = options.Method == "kto";
        using var writer = new StreamWriter(RowsFile(roundDir));
        using var labels = new StreamWriter(Path.Combine(roundDir, "labels.jsonl"));
        int rows = 0, ties = 0, desirable = 0;
        foreach (var (prompt, responses) in samples)
        {
            // Each response is scored once; the labels are kept and the training rows are built from them.
            var scored = responses.Select(r => source.Score(prompt, r)).ToArray();
            for (int i = 0; i < responses.Length; i++)
                if (scored[i] is { } label)
                    labels.WriteLine(JsonSerializer.Serialize(new { prompt_id = prompt.Id, response = responses[i], score = label.Score, rationale = label.Rationale, source = label.Provenance.Source }));
            var promptMessages = new[] { new { role = "user", content = prompt.Text } };
            if (kto)
            {
                foreach (var u in PreferencePairs.BuildUnpaired(prompt, responses, scored, options.KtoThreshold))
                {
                    writer.WriteLine(JsonSerializer.Serialize(new { prompt = promptMessages, completion = new[] { new { role = "assistant", content = u.Completion } }, label = u.Desirable }));
                    rows++;
                    if (u.Desirable) desirable++;
                }
                continue;
            }
            var pair = PreferencePairs.Build(prompt, responses, scored);
            if (pair is null) { ties++; continue; }
            writer.WriteLine(JsonSerializer.Serialize(new
            {
                prompt = promptMessages,
                chosen = new[] { new { role = "assistant", content = pair.Chosen } },
                rejected = new[] { new { role = "assistant", content = pair.Rejected } },
            }));
            rows++;
        }
        Log(kto
            ? $"round {round}: {samples.Count * options.SamplesPerPrompt} samples scored, {rows} KTO rows ({desirable} desirable, {rows - desirable} undesirable)"
            : $"round {round}: {samples.Count * options.SamplesPerPrompt} samples scored, {rows} preference pairs ({ties} prompts tied and dropped)");
        return rows;
    }

    /// <summary>A round's training rows: pairs.jsonl (DPO) or unpaired.jsonl (KTO).</summary>
    private string RowsFile(string roundDir) => Path.Combine(roundDir, options.Method == "kto" ? "unpaired.jsonl" : "pairs.jsonl");

    private void Align(string reference, string roundDir, int rows)
    {
        string output = Path.Combine(roundDir, "model");
        if (rows == 0)
        {
            Log("no training rows: the policy is unchanged this round");
            CopyModel(reference, output);
            return;
        }
        bool kto = options.Method == "kto";
        var args = new TrainingArguments
        {
            Model = reference, Dataset = RowsFile(roundDir), OutputDir = output, LearningRate = options.AlignLearningRate,
            LrSchedulerType = "linear", NumTrainEpochs = options.AlignEpochs, PerDeviceTrainBatchSize = options.AlignBatchSize,
            MaxLength = options.MaxLength, MaxPromptLength = options.MaxLength / 2, LoggingSteps = 5, SaveSteps = 100, Seed = options.Seed, Resume = resume, OverwriteOutputDir = !resume,
        };
        var encoder = Encoder(reference);
        var policy = new FullCausalLm(HuggingFaceFolder.Load(reference));
        using Trainer trainer = kto
            ? new KtoTrainer(args, policy, new JsonlDataset(args.Dataset, DatasetKind.UnpairedPreference).Cast<UnpairedPreferenceRow>().Select(r => encoder.Unpaired(r)).ToList(),
                encoder.PadId, new KtoOptions { Beta = options.Beta })
            : new DpoTrainer(args, policy, new JsonlDataset(args.Dataset, DatasetKind.Preference).Cast<PreferenceRow>().Select(r => encoder.Preference(r)).ToList(),
                encoder.PadId, new DpoOptions { Beta = options.Beta, RpoAlpha = options.RpoAlpha > 0 ? options.RpoAlpha : null }, precomputeReferenceLogProbs: true);
        Train(trainer, Path.GetFileName(roundDir), output);
        CopyTokenizer(reference, output);
    }

    private static void CopyModel(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.EnumerateFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)), overwrite: true);
    }

    /// <summary>k samples per prompt: prompts rendered with the chat template, decoded in batches with the KV cache.</summary>
    public List<(PromptRecord Prompt, string[] Responses)> Sample(string modelDir, IReadOnlyList<PromptRecord> prompts, int k, float temperature, ulong seed)
    {
        var results = SampleWithLogProbs(modelDir, prompts, k, temperature, seed);
        return results.Select(r => (r.Prompt, r.Samples.Select(s => s.Text).ToArray())).ToList();
    }

    public List<(PromptRecord Prompt, (string Text, int[] Tokens, float[] LogProbs)[] Samples)> SampleWithLogProbs(string modelDir, IReadOnlyList<PromptRecord> prompts, int k, float temperature, ulong seed)
    {
        using var model = HuggingFaceFolder.Load(modelDir);
        var encoder = Encoder(modelDir);
        var generator = new Generator(model, encoder.Tokenizer);
        var stops = model.Config.EosTokenIds.ToList();
        if (encoder.TemplateOptions.EosToken is { } eos && encoder.Tokenizer.TokenToId(eos) is { } eosId) stops.Add(eosId);
        var encoded = prompts.Select(p => PromptIds(encoder, p)).ToList();
        var output = prompts.Select(p => (p, new (string, int[], float[])[k])).ToList();
        const int Batch = 64;
        var rows = Enumerable.Range(0, prompts.Count).SelectMany(i => Enumerable.Range(0, k).Select(j => (i, j))).ToList();
        for (int start = 0; start < rows.Count; start += Batch)
        {
            var chunk = rows.Skip(start).Take(Batch).ToList();
            var generated = generator.Generate(chunk.Select(r => encoded[r.i]).ToList(), new GenerationOptions
            {
                MaxNewTokens = options.MaxNewTokens, Temperature = temperature, StopTokenIds = stops, Seed = seed + (ulong)start,
            });
            for (int n = 0; n < chunk.Count; n++)
                output[chunk[n].i].Item2[chunk[n].j] = (generated[n].Text.Trim(), generated[n].Tokens, generated[n].LogProbs);
        }
        return output.Select(o => (o.p, o.Item2)).ToList();
    }

    /// <summary>A folder's tokenizer and chat template (ChatML when the folder has none), as trainers and sampling use them.</summary>
    private static ExampleTokenizer Encoder(string folder) =>
        ExampleTokenizer.FromFolder(folder);

    /// <summary>A single user turn rendered for generation — the same prompt tokens the trainers use.</summary>
    private static int[] PromptIds(ExampleTokenizer encoder, PromptRecord prompt) =>
        encoder.Prompt(TextOrMessages.FromMessages(("user", prompt.Text)), prompt.Id);

    /// <summary>Greedy responses to the held-out prompts, scored; plus a KL estimate to the SFT model from temperature-1 samples.</summary>
    private RoundResult Evaluate(string name, string modelDir, string sftDir, AssistantWorld world, int pairs)
    {
        string cache = Path.Combine(modelDir, "eval.json");
        List<(PromptRecord, string)> responses;
        double kl = 0;
        if (resume && File.Exists(cache))
        {
            var saved = JsonSerializer.Deserialize<EvalCache>(File.ReadAllText(cache))!;
            var byId = world.EvalPrompts.ToDictionary(p => p.Id);
            responses = saved.Responses.Select(r => (byId[r.Id], r.Response)).ToList();
            kl = saved.Kl;
        }
        else
        {
            responses = Sample(modelDir, world.EvalPrompts, 1, 0f, options.Seed).Select(s => (s.Prompt, s.Responses[0])).ToList();
            kl = modelDir == sftDir ? 0 : KlEstimate(modelDir, sftDir, world.EvalPrompts);
            File.WriteAllText(cache, JsonSerializer.Serialize(new EvalCache(responses.Select(r => new EvalResponse(r.Item1.Id, r.Item2)).ToList(), kl)));
        }
        var scores = AlignmentMetrics.Evaluate(responses, WorldChecks.Evaluation, kl);
        Log($"eval {name}: harmful compliance {scores.HarmfulCompliance:P0}, over-refusal {scores.OverRefusal:P0}, accuracy {scores.VerifiableAccuracy:P0}, format {scores.FormatAdherence:P0}");
        return new RoundResult(name, modelDir, scores, pairs);
    }

    private sealed record EvalResponse(string Id, string Response);
    private sealed record EvalCache(List<EvalResponse> Responses, double Kl);

    /// <summary>E_{y∼π}[log π(y|x) − log π_SFT(y|x)] over the held-out prompts, one temperature-1 sample each.</summary>
    private double KlEstimate(string policyDir, string sftDir, IReadOnlyList<PromptRecord> prompts)
    {
        var samples = SampleWithLogProbs(policyDir, prompts, 1, 1f, options.Seed ^ 0x4B4C);
        using var sft = HuggingFaceFolder.Load(sftDir);
        var encoder = Encoder(sftDir);
        double total = 0;
        using var noGrad = Autograd.NoGrad();
        foreach (var (prompt, s) in samples)
        {
            var (_, tokens, logProbs) = s[0];
            if (tokens.Length == 0) continue;
            var promptIds = PromptIds(encoder, prompt);
            var ids = promptIds.Concat(tokens).ToArray();
            var labels = Enumerable.Repeat(AlignSharp.Tensors.Ops.IgnoreIndex, promptIds.Length).Concat(tokens).ToArray();
            var batch = new Batch(ids, labels, Enumerable.Repeat(1f, ids.Length).ToArray(), 1, ids.Length);
            using var scope = new TensorScope();
            double reference = SequenceLogProbs.Compute(sft, batch).Sums.ToArray()[0];
            total += logProbs.Sum(x => (double)x) - reference;
        }
        return total / samples.Count;
    }
}
