using System.Diagnostics;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using AlignSharp.Alignment.Environments;
using AlignSharp.Alignment.Environments.DemoWorld;
using AlignSharp.Alignment.Stages;
using AlignSharp.Eval;
using AlignSharp.Eval.Reports;
using AlignSharp.Feedback;
using AlignSharp.Feedback.Judges;
using AlignSharp.Feedback.Providers;
using AlignSharp.Feedback.Store;
using AlignSharp.Models.Checkpoints;
using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Models.Transformers;
using AlignSharp.Training;
using AlignSharp.Training.Config;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;
using AlignSharp.Training.Methods;
using AlignSharp.Training.Metrics;
using AlignSharp.Training.Online;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Alignment.Pipelines;

/// <summary>What a finished loop gives back: the evaluated models (starting model first), and paths for the report.</summary>
/// <param name="Rows">One row per evaluated model: the SFT model, then each round's.</param>
/// <param name="Environment">The environment the loop ran on.</param>
/// <param name="Policy">The final policy (with compare: the last method's), in memory (owned by the <see cref="IterativeAlignment"/> until it is disposed).</param>
/// <param name="Judged">With <c>signal: judge</c>: the same evaluation with the judged principles' metrics measured by the judge, and the judge's agreement with the world's checks; otherwise null.</param>
public sealed record LoopResult(IReadOnlyList<EvalRow> Rows, IAlignmentEnvironment Environment, TransformerModel Policy, JudgedEvaluation? Judged = null)
{
    /// <summary>With <c>compare:</c>, each method's rounds from the same SFT model (<see cref="Rows"/> is then SFT and each method's last round); otherwise null.</summary>
    public IReadOnlyList<MethodRun>? Comparison { get; init; }
}


/// <summary>
/// The iterative automated-alignment loop, as resumable stages under runs/&lt;name&gt;:
/// environment → (tokenizer → base model) → SFT → evaluate → for each round: sample k responses per prompt with the
/// current policy, score each once with the signal sources (constitution principles, then verifiers), build the
/// method's data (best-vs-worst pairs for DPO, ties dropped; desirable/undesirable labels for KTO), train against the
/// previous round's policy, evaluate → report. An online method (GRPO, PPO, RLOO, online DPO) instead trains while it
/// samples, at the same sample budget, rewarded by the same signal (<see cref="OnlineRounds"/>); with compare: every
/// listed method runs its rounds from the same SFT weights and the report has one table of them. No human label anywhere (after Bai et al. 2022, "Constitutional AI",
/// and the iterative DPO of Xu et al. 2023, "Some things are more CRINGE than others").
/// The policy is held in memory from stage to stage: it is loaded from disk only when a finished stage is skipped on
/// resume; the KL reference is an in-memory snapshot of the SFT weights. Stages, resume and the recipe check are the
/// <see cref="StageRunner"/>'s and <see cref="RecipeRecord"/>'s.
/// </summary>
public sealed class IterativeAlignment : IDisposable
{
    /// <summary>Keys that name the folder, or only add stages or report lines, so they may change between resumes.</summary>
    public static readonly string[] FreeKeys = ["name", "runs_dir", "rounds", "report_samples", "goal_min_harmful_drop", "goal_max_over_refusal", "goal_max_accuracy_drop", "judge_concurrency"];

    private static readonly JsonSerializerOptions LabelJson = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    private readonly DemoOptions _options;
    private readonly bool _resume;
    private readonly Func<string, Action<int, int>>? _progressBar;
    private readonly StageRunner _stages;
    private TransformerModel? _policy, _sft;
    private ISignalSource? _source;
    /// <summary>The recipe's constitution with the world's checks, read once (the rounds' signal is built from it).</summary>
    private readonly Constitution _constitution;
    private readonly ChatProviderOptions? _judgeRole;
    private JudgeConnection? _judge;
    private FeedbackStore? _store;
    private CachingSignalSource? _cached;

    /// <param name="options">The recipe.</param>
    /// <param name="log">Where progress lines go.</param>
    /// <param name="resume">Skip finished stages and continue a cut-off one.</param>
    /// <param name="progressBar">Makes a progress reporter (step, total) for a training stage with this label; null = none.</param>
    /// <param name="judge">With <c>signal: judge</c>, the recipe's judge block (an endpoint or a model folder); null = train a judge on the world and serve it on loopback.</param>
    public IterativeAlignment(DemoOptions options, TextWriter log, bool resume, Func<string, Action<int, int>>? progressBar = null, ChatProviderOptions? judge = null)
    {
        _options = options;
        _resume = resume;
        _progressBar = progressBar;
        _judgeRole = judge;
        // Every recipe value, and the constitution the rounds use, is checked before minutes of SFT, not after.
        options.Validate();
        _constitution = Constitution.Load(options.Constitution, WorldChecks.All);
        if (options.RunMethods.Any(m => DemoOptions.OnlineMethods.Contains(m))) OnlineRounds.CheckRewardFuncs(options, _constitution);
        if (options.Signal == "judge") JudgedPrinciples(_constitution);
        else _source = Signal(_constitution);
        // compare only adds (or leaves out) methods' folders. The online methods' keys change nothing in a run without
        // one, so such a run neither records them nor checks them (its recipe.json is what it was before they existed).
        bool online = options.RunMethods.Any(m => DemoOptions.OnlineMethods.Contains(m));
        var values = ConfigBinder.Values(options).Where(kv => online || !DemoOptions.OnlineKeys.Contains(kv.Key) && !(kv.Key == "compare" && options.Compare.Count == 0));
        RecipeRecord.CheckAndRecord(options.RunDir, values.ToDictionary(kv => kv.Key, kv => kv.Value), [.. FreeKeys, "compare"], resume);
        _stages = new StageRunner(options.RunDir, resume, log);
    }

    private string Dir(params string[] parts) => Path.Combine([_options.RunDir, .. parts]);

    /// <summary>The environment of the last <see cref="Run"/>.</summary>
    public IAlignmentEnvironment? Environment { get; private set; }

    /// <summary>The run's feedback store: every sampled response and every label, with provenance (SQLite).</summary>
    public string StorePath => Dir("feedback.db");

    /// <summary>Scoring calls the signal sources made in this process (labels found in the store cost none).</summary>
    public long ScoringCalls => (_cached?.InnerCalls ?? 0) + (_rewards?.ScoringCalls ?? 0);

    /// <summary>Labels this process found in the store instead of scoring again.</summary>
    public long StoredLabelsReused => (_cached?.CacheHits ?? 0) + (_rewards?.StoredLabelsReused ?? 0);

    /// <summary>The SFT model's folder (the evaluation's starting point).</summary>
    public string SftDir => _options.Model.Length > 0 && _options.SftEpochs == 0 ? _options.Model : Dir("sft");

    public LoopResult Run()
    {
        var options = _options;
        var env = DemoWorldEnvironment.Generate(new WorldOptions(options.Seed, options.SftConversations, options.TrainPrompts, options.EvalPrompts,
            options.HarmfulComplianceRate, options.WrongAnswerRate, options.IgnoreFormatRate, options.MaxOperand));
        _store ??= FeedbackStore.Open(StorePath);
        Environment = env;
        Directory.CreateDirectory(Dir("data"));
        env.World.WriteSftJsonl(Dir("data", "sft.jsonl"));
        env.World.WritePromptsJsonl(Dir("data", "train_prompts.jsonl"), env.TrainPrompts);
        env.World.WritePromptsJsonl(Dir("data", "eval_prompts.jsonl"), env.EvalPrompts);
        _stages.Log($"world: {env.Demonstrations.Count} SFT conversations, {env.TrainPrompts.Count} alignment prompts, {env.EvalPrompts.Count} held-out prompts");

        if (options.Model.Length == 0)
        {
            _stages.Run("tokenizer", () => TrainTokenizer(env));
            _stages.Run("base", InitBase);
        }
        string start = options.Model.Length > 0 ? options.Model : Dir("base");
        // With model: and sft_epochs: 0 the folder itself is the starting policy; otherwise SFT makes it.
        if (options.Model.Length > 0 && options.SftEpochs == 0) Replace(HuggingFaceFolder.Load(SftDir));
        else if (!_stages.Run("sft", () => Sft(start, SftDir)) || _policy is null) Replace(HuggingFaceFolder.Load(SftDir));
        _sft = _policy!.Snapshot(); // the KL reference: the SFT weights, kept while the policy trains on
        if (options.Signal == "judge" && _judge is null) ConnectJudge(env); // once per instance: a second Run reuses the connection
        var source = _cached ??= new CachingSignalSource(_source!, _store);

        var rows = new List<EvalRow> { Evaluate("SFT", SftDir, env, 0) };
        if (options.Compare.Count == 0)
        {
            rows.AddRange(Rounds(options.Method, "", env, source));
            return new LoopResult(rows, env, _policy!, Judged());
        }
        // Every method from the same SFT weights, each in its own folder (METHOD/round-N) with its own stages.
        var runs = new List<MethodRun>();
        foreach (var method in options.Compare)
        {
            var fromSft = _sft!.Snapshot();
            fromSft.SetTrainable(true);
            Replace(fromSft);
            var methodRows = Rounds(method, method, env, source);
            var seconds = Enumerable.Range(1, options.Rounds).Sum(r => RoundSeconds(Dir(method, $"round-{r}")));
            runs.Add(new MethodRun(method, methodRows, TimeSpan.FromSeconds(seconds), Enumerable.Range(1, options.Rounds).Sum(r => SampledCompletions(method))));
            rows.Add(methodRows.Count > 0 ? methodRows[^1] with { Name = method } : rows[0] with { Name = method });
        }
        return new LoopResult(rows, env, _policy!, Judged()) { Comparison = runs };
    }

    private JudgedEvaluation? Judged() =>
        _judge is null ? null : new JudgedEvaluation(_judge.Description, _options.JudgePrinciples, _judgedRows, JudgeAgreementWithChecks());

    /// <summary>
    /// The rounds of one method, from the policy in memory, under <paramref name="folder"/> (empty: the run folder
    /// itself, as a single-method run lays it out): dpo/kto sample, score and pair (stage round-N-pairs), then train
    /// (round-N-train); an online method trains while it samples (round-N-train). Each round's model is evaluated and
    /// is the next round's reference. Returns one row per round.
    /// </summary>
    private List<EvalRow> Rounds(string method, string folder, IAlignmentEnvironment env, ISignalSource source)
    {
        var rows = new List<EvalRow>();
        string reference = SftDir;
        string prefix = folder.Length == 0 ? "" : folder + "-";
        bool online = DemoOptions.OnlineMethods.Contains(method);
        for (int round = 1; round <= _options.Rounds; round++)
        {
            string roundDir = Dir(folder, $"round-{round}");
            string output = Path.Combine(roundDir, "model");
            string previous = reference;
            var clock = Stopwatch.StartNew();
            int trainRows;
            bool ran;
            if (online)
            {
                ran = _stages.Run($"{prefix}round-{round}-train", () => TrainOnline(method, previous, roundDir, env));
                if (!ran) Replace(HuggingFaceFolder.Load(output));
                trainRows = SampledCompletions(method);
            }
            else
            {
                List<DatasetRow>? data = null;
                int r = round;
                bool paired = _stages.Run($"{prefix}round-{round}-pairs", () => data = BuildRows(method, env, source, r, roundDir));
                // A round whose rows were built by an earlier process reads them back from the file it wrote.
                data ??= File.Exists(RowsFile(method, roundDir)) ? new JsonlDataset(RowsFile(method, roundDir), RowsKind(method)).ToList() : [];
                var train = data;
                bool trained = _stages.Run($"{prefix}round-{round}-train", () => Align(method, previous, roundDir, train));
                if (!trained) Replace(HuggingFaceFolder.Load(output));
                ran = paired || trained;
                trainRows = data.Count;
            }
            // Compared methods keep each round's time (sampling, scoring, training; not the evaluation) for the table;
            // a round finished by an earlier process keeps the time it recorded then.
            if (folder.Length > 0 && ran) AtomicFile.WriteAllText(RoundSecondsFile(roundDir), clock.Elapsed.TotalSeconds.ToString("R", CultureInfo.InvariantCulture));
            reference = output;
            rows.Add(Evaluate(folder.Length == 0 ? $"round {round}" : $"{method} round {round}", output, env, trainRows));
        }
        return rows;
    }

    /// <summary>Makes <paramref name="model"/> the policy, disposing the one it replaces.</summary>
    private void Replace(TransformerModel model)
    {
        if (!ReferenceEquals(_policy, model)) _policy?.Dispose();
        _policy = model;
    }

    private void TrainTokenizer(IAlignmentEnvironment env)
    {
        var texts = env.Demonstrations.SelectMany(s => new[] { s.Prompt.Text + "\n", s.Response + "\n" });
        // The embedded judge shares the policy's tokenizer: its messages (principle texts, the question) and verdicts
        // become a few whole tokens instead of many byte pieces.
        if (EmbeddedJudge) texts = texts.Concat(JudgeTraining.TokenizerTexts(JudgeTraining.TrainingExamples(World(env), JudgedPrinciples(_constitution), JudgeTrainingOptions)));
        var tokenizer = BpeTrainer.Train(texts, new BpeTrainerOptions(_options.TokenizerVocabSize, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], 2, TokenizerStyle.Llama3));
        tokenizer.Save(Dir("tokenizer"));
        new TokenizerConfig { EosToken = "<|im_end|>", PadToken = "<|endoftext|>", ChatTemplate = BuiltInTemplates.GetSource("chatml"), ModelMaxLength = _options.MaxLength }
            .Save(Dir("tokenizer"), tokenizer);
    }

    private void InitBase()
    {
        var o = _options;
        var tokenizer = Tokenizer.Load(Dir("tokenizer"));
        var config = new ModelConfig
        {
            Architecture = Architecture.Llama, VocabSize = tokenizer.VocabSize, HiddenSize = o.HiddenSize, IntermediateSize = o.IntermediateSize,
            NumLayers = o.Layers, NumHeads = o.Heads, NumKvHeads = o.KvHeads, HeadDim = o.HiddenSize / o.Heads,
            MaxPositions = Math.Max(o.MaxLength, 128), NormEps = 1e-6f, TieWordEmbeddings = true,
            EosTokenIds = [tokenizer.TokenToId("<|im_end|>")!.Value], PadTokenId = tokenizer.TokenToId("<|endoftext|>"),
        };
        using var model = TransformerModel.Create(config, o.Seed);
        HuggingFaceFolder.Save(model, Dir("base"));
        CopyTokenizer(Dir("tokenizer"), Dir("base"));
        _stages.Log($"base: Llama {model.ParameterCount / 1e6:F2}M parameters, vocabulary {config.VocabSize}");
    }

    private static void CopyTokenizer(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json" }) File.Copy(Path.Combine(from, f), Path.Combine(to, f), overwrite: true);
    }

    private void Sft(string start, string output)
    {
        var args = _options.SftArguments(start, Dir("data", "sft.jsonl"), output, _resume);
        var encoder = ExampleTokenizer.FromFolder(start);
        var examples = new JsonlDataset(args.Dataset).Select(r => encoder.Sft(r, new SftOptions { MaxLength = _options.MaxLength, AssistantOnlyLoss = true })).ToList();
        var model = HuggingFaceFolder.Load(start);
        Replace(model);
        using var trainer = TrainingMethods.Sft.CreateTrainer(args, new FullCausalLm(model), EncodedExamples.ForSft(examples, encoder.PadId, encoder.EosId));
        trainer.OwnsModel = false;
        Train(trainer, "sft", output);
        CopyTokenizer(start, output);
    }

    private void Train(Trainer trainer, string label, string output)
    {
        var start = trainer.PrepareRun();
        _stages.AddEarlierTime(start.EarlierElapsed);
        using var metrics = MetricsLogger.ForRun(output, start);
        trainer.AddMetricsSink(metrics.Log);
        if (_progressBar?.Invoke($"  {label}") is { } bar) trainer.Progress += p => bar((int)p.Step, (int)p.TotalSteps);
        var result = trainer.Train();
        _stages.Log($"{label}: {result.Steps} steps, final loss {result.FinalLoss:F4}");
    }

    /// <summary>
    /// The automated signal, all from the constitution: "lexicographic" ranks by the harm/helpfulness principles first
    /// (refuse_harmful, help_benign) and only then by correctness (answers, formats); "weighted" averages all principles.
    /// </summary>
    private ISignalSource Signal(Constitution constitution)
    {
        if (_options.Signal == "weighted") return new ConstitutionSource(constitution);
        string[] safetyChecks = ["refuse_harmful", "help_benign"];
        var safety = constitution with { Name = constitution.Name + "/principles", Principles = constitution.Principles.Where(p => safetyChecks.Contains(p.Check)).ToList() };
        var quality = constitution with { Name = constitution.Name + "/correctness", Principles = constitution.Principles.Where(p => !safetyChecks.Contains(p.Check)).ToList() };
        if (safety.Principles.Count == 0 || quality.Principles.Count == 0) return new ConstitutionSource(constitution);
        return new Lexicographic(new ConstitutionSource(safety), new ConstitutionSource(quality));
    }

    private static AssistantWorld World(IAlignmentEnvironment env) =>
        (env as DemoWorldEnvironment)?.World ?? throw new TrainingException("signal: judge with an embedded judge needs environment: assistant_world (its judging data)");

    /// <summary>signal judge with no judge: block in the recipe: a judge is trained on the world and served on loopback.</summary>
    private bool EmbeddedJudge => _options.Signal == "judge" && _judgeRole is null;

    /// <summary>The embedded judge's training sizes (judge_* keys; the rest measured defaults).</summary>
    private JudgeTrainingOptions JudgeTrainingOptions => new()
    {
        Principles = _options.JudgePrinciples, TrainExamplesPerPrinciple = _options.JudgeExamples, Epochs = _options.JudgeEpochs,
        LearningRate = _options.JudgeLearningRate, Seed = _options.Seed,
    };

    /// <summary>The judge_principles of the constitution, each to be scored by the judge within its applies_to.</summary>
    private IReadOnlyList<Principle> JudgedPrinciples(Constitution constitution)
    {
        foreach (var id in _options.JudgePrinciples)
            if (!constitution.Principles.Any(p => p.Id == id))
                throw new TrainingException($"judge_principles: {_options.Constitution} has no principle '{id}' (it has {string.Join(", ", constitution.Principles.Select(p => p.Id))})");
        return constitution.Principles.Where(p => _options.JudgePrinciples.Contains(p.Id)).ToList();
    }

    /// <summary>
    /// Trains the embedded judge (stage "judge") unless the recipe names one, connects to it over the OpenAI API, and
    /// makes the signal: the judged principles first (each asked of the judge, soft P(yes) from the verdict token's
    /// log-probs), then the others by their programmatic checks (answers, formats).
    /// </summary>
    private void ConnectJudge(IAlignmentEnvironment env)
    {
        var constitution = _constitution;
        var judged = JudgedPrinciples(constitution);
        if (_judgeRole is null)
        {
            _stages.Run("judge", () =>
            {
                string tokenizer = _options.Model.Length > 0 ? SftDir : Dir("tokenizer");
                var trained = JudgeTraining.Train(World(env), constitution.Principles, tokenizer, Dir("judge"), JudgeTrainingOptions, log: null);
                trained.Model.Dispose();
                var all = trained.Test.Table().Last();
                _stages.Log($"judge: {trained.TrainExamples} judging examples, trained in {trained.TrainTime.TotalSeconds:F0} s; held-out judging items {all.Items}: {all.GreedyAccuracy:P1} right");
            });
        }
        _judge = _judgeRole is null ? JudgeConnection.Serve(Dir("judge"), _options.JudgeConcurrency) : JudgeConnection.Connect(_judgeRole);
        _stages.Log($"judge: {_judge.Description}");
        var judgedIds = judged.Select(p => p.Id).ToHashSet();
        _judges = judged.ToDictionary(p => p.Id, p => (ISignalSource)new PrincipleJudge(_judge.Client, p.Text, p.Id));
        var byJudge = constitution with { Name = constitution.Name + "/judged", Principles = judged.Select(p => p with { Scorer = PrincipleScorer.Judge }).ToList() };
        var byCheck = constitution with { Name = constitution.Name + "/checks", Principles = constitution.Principles.Where(p => !judgedIds.Contains(p.Id)).ToList() };
        var first = new ConstitutionSource(byJudge, p => _judges[p.Id]);
        _source = byCheck.Principles.Count == 0 ? first : new Lexicographic(first, new ConstitutionSource(byCheck));
    }

    /// <summary>The judge of each judged principle (principle id → judge), when <c>signal: judge</c>.</summary>
    private Dictionary<string, ISignalSource>? _judges;

    /// <summary>How many judge requests may be in flight (scoring through the judge); 1 for programmatic sources.</summary>
    private int ScoringConcurrency => _judge is null ? 1 : _options.JudgeConcurrency;

    /// <summary>
    /// Samples k responses per alignment prompt from the policy, scores each once (labels.jsonl, each label whole with
    /// its provenance) and builds the method's training rows: best-vs-worst pairs (ties dropped) for DPO, or every
    /// scored sample labelled desirable or not (TRL's unpaired preference format) for KTO. The rows are kept in memory
    /// for the round's training and written for people and other tools (pairs.jsonl / unpaired.jsonl, atomically).
    /// </summary>
    private List<DatasetRow> BuildRows(string method, IAlignmentEnvironment env, ISignalSource source, int round, string roundDir)
    {
        var o = _options;
        Directory.CreateDirectory(roundDir);
        var rollouts = Sampler(SftDir).Sample(env.TrainPrompts, o.SamplesPerPrompt, o.SampleTemperature, o.Seed + (ulong)round * 7919, o.MaxNewTokens);
        bool kto = method == "kto";
        var rows = new List<DatasetRow>();
        using var labels = new JsonlFileWriter(Path.Combine(roundDir, "labels.jsonl"));
        int ties = 0, desirable = 0;
        // Every sample goes into the store, then all are scored in one batch through the store: a re-run (or a resumed
        // run) finds the labels it already paid for and scores only what is missing.
        _store!.AddGenerations(rollouts.SelectMany(r => r));
        var items = rollouts.SelectMany(r => r.Select(x => new SignalItem(x.Prompt, x.Text))).ToArray();
        long calls = ScoringCalls;
        var all = source.ScoreBatchAsync(items, ScoringConcurrency).AsTask().GetAwaiter().GetResult();
        for (int p = 0; p < rollouts.Length; p++)
        {
            var prompt = rollouts[p][0].Prompt;
            var responses = rollouts[p].Select(s => s.Text).ToArray();
            var scored = all.AsSpan(p * o.SamplesPerPrompt, o.SamplesPerPrompt).ToArray();
            for (int i = 0; i < responses.Length; i++)
                if (scored[i] is { } label)
                {
                    var line = new LabelLine(prompt.Id, responses[i], label.Unparsable ? null : label.Score, label.Rationale, label.Provenance, label.Parts, label.Unparsable ? true : null);
                    labels.WriteLine(w => JsonSerializer.Serialize(w, line, LabelJson));
                }
            if (kto)
            {
                foreach (var u in PreferencePairs.BuildUnpaired(prompt, responses, scored, o.KtoThreshold))
                {
                    rows.Add(TrlRows.Unpaired(u));
                    if (u.Desirable) desirable++;
                }
                continue;
            }
            if (PreferencePairs.Build(prompt, responses, scored) is { } pair) rows.Add(TrlRows.Preference(pair));
            else ties++;
        }
        labels.Commit();
        TrlJsonlWriter.WriteAll(RowsFile(method, roundDir), rows);
        _stages.Log(kto
            ? $"round {round}: {items.Length} samples labelled ({ScoringCalls - calls} scoring calls; repeats and labels already in the store cost none), {rows.Count} KTO rows ({desirable} desirable, {rows.Count - desirable} undesirable)"
            : $"round {round}: {items.Length} samples labelled ({ScoringCalls - calls} scoring calls; repeats and labels already in the store cost none), {rows.Count} preference pairs ({ties} prompts tied and dropped)");
        return rows;
    }

    /// <summary>One line of labels.jsonl: the prompt id and response, and the label with its whole provenance.</summary>
    private sealed record LabelLine(string PromptId, string Response, double? Score, string Rationale, Provenance Provenance, IReadOnlyDictionary<string, double>? Parts, bool? Unparsable);

    private static DatasetKind RowsKind(string method) => method == "kto" ? DatasetKind.UnpairedPreference : DatasetKind.Preference;

    /// <summary>A round's training rows: pairs.jsonl (DPO) or unpaired.jsonl (KTO).</summary>
    private static string RowsFile(string method, string roundDir) => Path.Combine(roundDir, method == "kto" ? "unpaired.jsonl" : "pairs.jsonl");

    /// <summary>Trains the in-memory policy on the round's rows against <paramref name="reference"/> (the previous round's model).</summary>
    private void Align(string methodName, string reference, string roundDir, List<DatasetRow> rows)
    {
        string output = Path.Combine(roundDir, "model");
        if (rows.Count == 0)
        {
            _stages.Log("no training rows: the policy is unchanged this round");
            CopyModel(reference, output);
            return;
        }
        var args = _options.AlignArguments(reference, RowsFile(methodName, roundDir), output, _resume);
        var encoder = _encoder ??= ExampleTokenizer.FromFolder(SftDir);
        // The trainer comes from the registry, like `train METHOD`'s; it trains the in-memory policy and leaves it to us.
        var method = TrainingMethods.Parse(methodName, "method");
        var examples = method == TrainingMethods.Kto
            ? EncodedExamples.ForUnpaired(rows.Cast<UnpairedPreferenceRow>().Select(r => encoder.Unpaired(r)).ToList(), encoder.PadId)
            : EncodedExamples.ForPreference(rows.Cast<PreferenceRow>().Select(r => encoder.Preference(r)).ToList(), encoder.PadId);
        var methodOptions = method == TrainingMethods.Kto
            ? method.Options(new KtoOptions { Beta = _options.Beta })
            : method.Options(new DpoOptions { Beta = _options.Beta, RpoAlpha = _options.RpoAlpha > 0 ? _options.RpoAlpha : null }, new ReferenceOptions { PrecomputeRefLogProbs = true });
        using var trainer = method.CreateTrainer(args, new FullCausalLm(_policy!), examples, methodOptions);
        trainer.OwnsModel = false;
        Train(trainer, Path.GetFileName(roundDir), output);
        CopyTokenizer(reference, output);
    }

    /// <summary>
    /// Trains the in-memory policy with an online method for one round (<see cref="OnlineRounds"/>): it samples the
    /// train prompts as it trains, at the sample budget of a dpo round, rewarded by the reward functions (online_dpo:
    /// ranked by the signal); the reference of its KL term is <paramref name="reference"/>, the policy as the round starts.
    /// </summary>
    private void TrainOnline(string method, string reference, string roundDir, IAlignmentEnvironment env)
    {
        string output = Path.Combine(roundDir, "model");
        var plan = OnlineRounds.Plan(_options, method);
        var args = _options.OnlineArguments(method, reference, output, plan.MaxSteps, _resume);
        var encoder = _encoder ??= ExampleTokenizer.FromFolder(SftDir);
        _rewards ??= OnlineRounds.Rewards(_options, _constitution, _judges, _store!, ScoringConcurrency);
        long calls = ScoringCalls;
        var (trainer, critic) = OnlineRounds.Create(method, _options, args, _policy!, env.TrainPrompts, encoder, _rewards, _cached!, ScoringConcurrency);
        using var owned = trainer;
        using var ownedCritic = critic;
        Train(trainer, $"{method} {Path.GetFileName(roundDir)}", output);
        CopyTokenizer(reference, output);
        _stages.Log($"{method} {Path.GetFileName(roundDir)}: {plan.Completions} completions sampled and scored in {plan.MaxSteps} steps ({ScoringCalls - calls} scoring calls)");
    }

    /// <summary>The online rounds' reward functions (made once).</summary>
    private RoundRewards? _rewards;

    /// <summary>Completions a round of <paramref name="method"/> samples (train_prompts × samples_per_prompt; online methods: rounded up to whole generation batches).</summary>
    private int SampledCompletions(string method) =>
        DemoOptions.OnlineMethods.Contains(method) ? OnlineRounds.Plan(_options, method).Completions : _options.TrainPrompts * _options.SamplesPerPrompt;

    /// <summary>A compared method's round keeps its time (seconds, without the evaluation) here.</summary>
    private static string RoundSecondsFile(string roundDir) => Path.Combine(roundDir, "round_seconds.txt");

    private static double RoundSeconds(string roundDir) =>
        File.Exists(RoundSecondsFile(roundDir)) ? double.Parse(File.ReadAllText(RoundSecondsFile(roundDir)), CultureInfo.InvariantCulture) : 0;

    private static void CopyModel(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.EnumerateFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)), overwrite: true);
    }

    /// <summary>A sampler over the in-memory policy, with the tokenizer and chat template of <paramref name="folder"/>.</summary>
    private PolicySampler Sampler(string folder) => new(_policy!, _encoder ??= ExampleTokenizer.FromFolder(SftDir), folder);

    /// <summary>The tokenizer and chat template every stage shares (each stage's folder gets a copy of the SFT model's).</summary>
    private ExampleTokenizer? _encoder;

    /// <summary>Greedy responses to the held-out prompts, scored; plus a KL estimate to the SFT model from temperature-1 samples.</summary>
    private EvalRow Evaluate(string name, string modelDir, IAlignmentEnvironment env, int rows)
    {
        string cache = Path.Combine(modelDir, "eval.json");
        List<(PromptRecord, string)> responses;
        double kl;
        if (_resume && File.Exists(cache))
        {
            var saved = JsonSerializer.Deserialize<EvalCache>(File.ReadAllText(cache))!;
            var byId = env.EvalPrompts.ToDictionary(p => p.Id);
            responses = saved.Responses.Select(r => (byId[r.Id], r.Response)).ToList();
            kl = saved.Kl;
        }
        else
        {
            var sampler = Sampler(modelDir);
            responses = sampler.Sample(env.EvalPrompts, 1, 0f, _options.Seed, _options.MaxNewTokens).Select(s => (s[0].Prompt, s[0].Text)).ToList();
            kl = modelDir == SftDir ? 0
                : SequenceKl.Estimate(sampler.Sample(env.EvalPrompts, 1, 1f, _options.Seed ^ 0x4B4C, _options.MaxNewTokens).Select(s => s[0]).ToList(), _sft!);
            File.WriteAllText(cache, JsonSerializer.Serialize(new EvalCache(responses.Select(r => new EvalResponse(r.Item1.Id, r.Item2)).ToList(), kl)));
        }
        var outcomes = AlignmentMetrics.Outcomes(responses, env.Evaluation);
        var scores = AlignmentMetrics.Evaluate(outcomes, kl);
        _stages.Log($"eval {name}: harmful compliance {scores.HarmfulCompliance:P0}, over-refusal {scores.OverRefusal:P0}, accuracy {scores.VerifiableAccuracy:P0}, format {scores.FormatAdherence:P0}");
        if (_judges is not null) _judgedRows.Add(JudgedRow(name, modelDir, responses, env, rows, kl));
        return new EvalRow(name, modelDir, scores, rows) { Outcomes = outcomes }; // per prompt, for the report's paired bootstrap intervals
    }

    private readonly List<EvalRow> _judgedRows = [];
    private readonly Dictionary<string, (List<FeedbackLabel?> Judge, List<FeedbackLabel?> Check)> _agreement = [];

    /// <summary>
    /// The same responses measured with the judge in place of the world's check for each judged principle (within the
    /// check's scope: the prompts it applies to), through the store; and each judge label kept beside the check's label
    /// for the agreement figures.
    /// </summary>
    private EvalRow JudgedRow(string name, string modelDir, IReadOnlyList<(PromptRecord Prompt, string Response)> responses, IAlignmentEnvironment env, int rows, double kl)
    {
        var checks = env.Evaluation;
        ISignalSource Judged(string id, ISignalSource check)
        {
            if (!_judges!.TryGetValue(id, out var judge)) return check;
            var scoped = responses.Select(r => (r.Prompt, r.Response, Check: check.Score(r.Prompt, r.Response))).Where(r => r.Check is not null).ToList();
            var labels = new CachingSignalSource(judge, _store!).ScoreBatchAsync(scoped.Select(r => new SignalItem(r.Prompt, r.Response)).ToList(), ScoringConcurrency)
                .AsTask().GetAwaiter().GetResult();
            if (!_agreement.TryGetValue(id, out var pairs)) _agreement[id] = pairs = ([], []);
            pairs.Judge.AddRange(labels);
            pairs.Check.AddRange(scoped.Select(r => r.Check));
            var byItem = new Dictionary<(string, string), FeedbackLabel>();
            for (int i = 0; i < scoped.Count; i++)
                if (labels[i].IsScored()) byItem[(scoped[i].Prompt.Id, scoped[i].Response)] = labels[i]!;
            return new JudgeLabels(id, byItem);
        }
        var judged = new AlignmentChecks(Judged("refuse_harmful", checks.RefuseHarmful), Judged("help_benign", checks.HelpBenign),
            Judged("correct_answer", checks.CorrectAnswer), Judged("follow_format", checks.FollowFormat));
        var outcomes = AlignmentMetrics.Outcomes(responses, judged);
        var scores = AlignmentMetrics.Evaluate(outcomes, kl);
        _stages.Log($"eval {name} (judge labels): harmful compliance {scores.HarmfulCompliance:P0}, over-refusal {scores.OverRefusal:P0}");
        return new EvalRow(name, modelDir, scores, rows) { Outcomes = outcomes };
    }

    /// <summary>Per judged principle, the judge against the world's check over every evaluated response.</summary>
    private IReadOnlyList<SourceAgreement> JudgeAgreementWithChecks() =>
        _agreement.Select(kv => JudgeAgreement.Of(kv.Value.Judge, kv.Value.Check, 0.5, $"judge: {kv.Key}", $"check: {kv.Key}")).ToList();

    /// <summary>Judge labels already obtained, looked up by (prompt id, response); null for an item the judge did not score (out of scope or unparsable).</summary>
    private sealed class JudgeLabels(string id, IReadOnlyDictionary<(string, string), FeedbackLabel> labels) : ISignalSource
    {
        public string Name => id;
        public string Fingerprint => SignalFingerprint.Of("judge-labels:" + id, 1);
        public FeedbackLabel? Score(PromptRecord prompt, string response) => labels.GetValueOrDefault((prompt.Id, response));
    }

    private sealed record EvalResponse(string Id, string Response);
    private sealed record EvalCache(List<EvalResponse> Responses, double Kl);

    /// <summary>
    /// The same held-out prompts (a few per category) answered greedily by the SFT model and the final policy, for the
    /// report's before/after conversations.
    /// </summary>
    public IReadOnlyList<(PromptRecord Prompt, string Before, string After)> BeforeAfter(LoopResult result, int count)
    {
        var picks = result.Environment.EvalPrompts.GroupBy(p => p.Category).SelectMany(g => g.Take(Math.Max(1, count / 4))).Take(count).ToList();
        var encoder = _encoder ??= ExampleTokenizer.FromFolder(SftDir);
        var before = new PolicySampler(_sft!, encoder).Sample(picks, 1, 0f, _options.Seed, _options.MaxNewTokens);
        var after = new PolicySampler(_policy!, encoder).Sample(picks, 1, 0f, _options.Seed, _options.MaxNewTokens);
        return picks.Select((p, i) => (p, before[i][0].Text, after[i][0].Text)).ToList();
    }

    /// <summary>Writes report.html: the table, the goal (recipe thresholds), curves and conversations before/after.</summary>
    public void WriteReport(LoopResult result, string path, TimeSpan elapsed)
    {
        var o = _options;
        var rows = result.Rows;
        var curves = new List<(string, string)> { ("SFT", Path.Combine(rows[0].ModelDir, "metrics.jsonl")) };
        if (result.Comparison is { } runs)
            curves.AddRange(runs.SelectMany(m => m.Rows.Select(r => (r.Name, Path.Combine(r.ModelDir, "metrics.jsonl")))));
        else
            curves.AddRange(rows.Skip(1).Select(r => ($"{r.Name} ({o.Method.ToUpperInvariant()})", Path.Combine(r.ModelDir, "metrics.jsonl"))));
        string description = result.Comparison is null
            ? $"No human labels: the signal comes from the constitution in {o.Constitution} and programmatic verifiers. {RoundsDescription(o.Method)} Finished in {elapsed.TotalMinutes:F1} min."
            : $"No human labels: the signal comes from the constitution in {o.Constitution} and programmatic verifiers. Compared from one SFT model: " +
              string.Join(" ", o.Compare.Select(m => $"{m}: {RoundsDescription(m)}")) + $" Finished in {elapsed.TotalMinutes:F1} min.";
        if (result.Judged is not null)
            description = description.Replace("No human labels: the signal comes from the constitution", "No human labels: the signal comes from an LLM judge (" + string.Join(", ", o.JudgePrinciples) + ") over the OpenAI API and the constitution");
        var comparison = result.Comparison is null ? null : new MethodComparison(rows[0], result.Comparison, o.Goal);
        AlignmentReport.Html(path, o.Name, description, rows, o.Goal, BeforeAfter(result, o.ReportSamples), curves, result.Judged, comparison);
    }

    /// <summary>What a method's rounds do, one sentence for the report.</summary>
    private string RoundsDescription(string method)
    {
        var o = _options;
        string Number(float x) => x.ToString(CultureInfo.InvariantCulture);
        if (!DemoOptions.OnlineMethods.Contains(method))
        {
            string offline = method == "kto" ? "each sample labelled desirable or not, KTO"
                : "best-vs-worst pairs, DPO" + (o.RpoAlpha > 0 ? $" + NLL on the chosen (RPO α = {Number(o.RpoAlpha)})" : "");
            return $"{o.Rounds} round(s) of sampling {o.SamplesPerPrompt} responses per prompt, {offline} (β = {Number(o.Beta)}).";
        }
        string weights = string.Join(", ", o.RewardFuncs.Select((f, i) => $"{f} × {Number(o.RewardWeights?[i] ?? 1f)}"));
        string how = method switch
        {
            "grpo" => $"GRPO ({ConfigBinder.SnakeCase(o.GrpoLossType.ToString())} loss, {o.NumGenerations} completions per prompt, β = {Number(o.GrpoBeta)}) on the rewards {weights}",
            "rloo" => $"RLOO ({o.NumGenerations} completions per prompt, β = {Number(o.RlooBeta)}) on the rewards {weights}",
            "ppo" => $"PPO (KL coefficient {Number(o.PpoKlCoef)}) on the rewards {weights}",
            _ => $"online DPO (two completions per prompt ranked by the signal, β = {Number(o.OnlineDpoBeta)})",
        };
        return $"{o.Rounds} round(s) of {how}, each sampling {OnlineRounds.Plan(o, method).Completions} completions from the policy as it trains (the budget of a round of {o.SamplesPerPrompt} responses per prompt).";
    }

    public void Dispose()
    {
        _judge?.Dispose();
        _judge = null;
        _store?.Dispose();
        _store = null;
        _policy?.Dispose();
        _sft?.Dispose();
        _policy = _sft = null;
    }
}
