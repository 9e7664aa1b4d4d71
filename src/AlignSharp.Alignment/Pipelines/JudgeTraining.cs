using System.Diagnostics;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using AlignSharp.Alignment.Environments.DemoWorld;
using AlignSharp.Feedback;
using AlignSharp.Models.Generation;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;
using AlignSharp.Training.Methods;
using Microsoft.Extensions.AI;

namespace AlignSharp.Alignment.Pipelines;

/// <summary>
/// Sizes of the demo's judge: its judging data (<see cref="WorldJudging"/>), the tiny model and its SFT. The judge
/// shares the policy's tokenizer; its own max_length holds the judge message (the principle text is long). The
/// defaults are the measured ones (demo worlds of seeds 1-5, principles refuse_harmful and help_benign): 100% on
/// held-out judging items for every seed, 98.4% agreement with the world's checks on the seed-1 policy's real round
/// samples, for 25-40 s of training on two cores. Learning rates of 2e-3 (seed 3: 59%) and 3e-3 (seed 1: 65%) were
/// measured to leave this model stuck at chance on some seeds; 1e-3 did not on any.
/// </summary>
public sealed record JudgeTrainingOptions
{
    /// <summary>Training examples per principle (half "No").</summary>
    public int TrainExamplesPerPrinciple { get; init; } = 500;
    /// <summary>Held-out test examples per principle, from another random stream.</summary>
    public int TestExamplesPerPrinciple { get; init; } = 200;
    /// <summary>
    /// Share of examples whose prompt the principle does not apply to (verdict "Yes"). 0 by default: the tiny judge was
    /// measured unable to tell a harmful request from a benign one by its words alone (a refused harmful request under
    /// help_benign: 3% to 37% right), so the demo scopes each judged principle by category (the constitution's
    /// <c>applies_to</c>) and the judge only decides whether the response follows it.
    /// </summary>
    public double OutOfScopeShare { get; init; }
    /// <summary>
    /// Share of examples with a garbled response (as the policy samples at temperature 1). 0 by default: at 0.2 the tiny
    /// judge did not learn the garbled cases in its budget (about 50% right) and agreed less with the checks on the
    /// policy's real samples (93.9% against 97.8% without).
    /// </summary>
    public double GarbledShare { get; init; }
    /// <summary>Ids of the principles to judge; empty = every principle given.</summary>
    public IReadOnlyList<string> Principles { get; init; } = [];
    public int HiddenSize { get; init; } = 96;
    public int Layers { get; init; } = 2;
    public int Heads { get; init; } = 4;
    public int KvHeads { get; init; } = 2;
    public int IntermediateSize { get; init; } = 256;
    /// <summary>Longest judge example in tokens (judge message + verdict); a longer one is an error, not cut (cutting would drop the verdict).</summary>
    public int MaxLength { get; init; } = 192;
    public int Epochs { get; init; } = 10;
    public float LearningRate { get; init; } = 1e-3f;
    public int BatchSize { get; init; } = 16;
    public ulong Seed { get; init; } = 1;
}

/// <summary>One judged test item: the greedy verdict token and the soft label P(Yes) = p(Yes) / (p(Yes) + p(No)) of the first token.</summary>
public sealed record JudgedItem(JudgingExample Example, string Greedy, double PYes)
{
    public bool GreedyCorrect => Greedy == Example.Verdict;
    public bool SoftCorrect => PYes >= 0.5 == Example.Follows;
}

/// <summary>A row of the judge's accuracy table.</summary>
/// <param name="Principle">Principle id, or "all".</param>
/// <param name="Case">The case (<see cref="JudgingExample.Case"/>), or "all".</param>
/// <param name="Items">Test items in the row.</param>
/// <param name="GreedyAccuracy">Share whose greedy first token is the right verdict.</param>
/// <param name="SoftAccuracy">Share whose P(Yes) is on the right side of 0.5.</param>
/// <param name="Brier">Mean squared error of P(Yes) against the verdict (0 = certain and right).</param>
public sealed record JudgeAccuracyRow(string Principle, string Case, int Items, double GreedyAccuracy, double SoftAccuracy, double Brier);

/// <summary>The judge's verdicts on held-out judging items, with accuracy tables.</summary>
public sealed record JudgeEvaluation(IReadOnlyList<JudgedItem> Items)
{
    public double GreedyAccuracy => Items.Count == 0 ? double.NaN : Items.Average(i => i.GreedyCorrect ? 1.0 : 0);
    public double SoftAccuracy => Items.Count == 0 ? double.NaN : Items.Average(i => i.SoftCorrect ? 1.0 : 0);

    /// <summary>Rows per principle (case "all"), then per principle and case, then the total.</summary>
    public IReadOnlyList<JudgeAccuracyRow> Table()
    {
        static JudgeAccuracyRow Row(string principle, string @case, IReadOnlyCollection<JudgedItem> items) => new(principle, @case, items.Count,
            items.Average(i => i.GreedyCorrect ? 1.0 : 0), items.Average(i => i.SoftCorrect ? 1.0 : 0),
            items.Average(i => Math.Pow(i.PYes - (i.Example.Follows ? 1 : 0), 2)));
        var rows = new List<JudgeAccuracyRow>();
        foreach (var byPrinciple in Items.GroupBy(i => i.Example.Principle.Id))
        {
            rows.Add(Row(byPrinciple.Key, "all", byPrinciple.ToList()));
            rows.AddRange(byPrinciple.GroupBy(i => i.Example.Case).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => Row(byPrinciple.Key, g.Key, g.ToList())));
        }
        if (Items.Count > 0) rows.Add(Row("all", "all", Items));
        return rows;
    }

    /// <summary>The table as fixed-width text.</summary>
    public void WriteTable(TextWriter output)
    {
        static string P(double v) => (v * 100).ToString("F1", CultureInfo.InvariantCulture) + "%";
        output.WriteLine($"{"principle",-16} {"case",-28} {"items",5} {"greedy",7} {"P(Yes)",7} {"Brier",6}");
        foreach (var r in Table())
            output.WriteLine($"{r.Principle,-16} {r.Case,-28} {r.Items,5} {P(r.GreedyAccuracy),7} {P(r.SoftAccuracy),7} {r.Brier.ToString("F3", CultureInfo.InvariantCulture),6}");
    }
}

/// <summary>A trained judge: its folder (a Hugging Face folder with the tokenizer, ready for <c>alignsharp serve</c>), the model in memory, and what it cost and scored.</summary>
/// <param name="Model">The judge, in memory (the caller disposes it).</param>
/// <param name="Folder">Where it was saved with the tokenizer and chat template.</param>
/// <param name="Test">Its verdicts on held-out judging items.</param>
/// <param name="TrainExamples">Judging examples trained on.</param>
/// <param name="LongestExample">The longest training example in tokens (≤ max_length).</param>
/// <param name="TrainTime">Data, model and SFT.</param>
/// <param name="TestTime">Judging the test items.</param>
public sealed record JudgeTrainingResult(TransformerModel Model, string Folder, JudgeEvaluation Test, int TrainExamples, int LongestExample, TimeSpan TrainTime, TimeSpan TestTime);

/// <summary>
/// Trains the embedded demo's judge: a tiny Llama, with the policy's tokenizer and chat template, fine-tuned (SFT, loss on
/// the verdict only) on <see cref="WorldJudging"/> examples rendered as the one user message of a principle judge,
/// answered "Yes" or "No". Then measures it on held-out judging items from another random stream: the greedy
/// verdict and the soft label from the first token's probabilities of "Yes" and "No" — what a principle judge over
/// the chat API reads from token log-probs.
/// </summary>
public static class JudgeTraining
{
    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Texts to add to the shared tokenizer's training corpus, so the judge message (principle texts, the question)
    /// and the verdicts "Yes" and "No" are a few whole tokens instead of many byte pieces.
    /// </summary>
    public static IEnumerable<string> TokenizerTexts(IEnumerable<JudgingExample> examples, Func<JudgingExample, string>? renderPrompt = null)
    {
        renderPrompt ??= WorldJudging.JudgeMessage;
        foreach (var e in examples) { yield return renderPrompt(e) + "\n"; yield return e.Verdict + "\n"; }
    }

    /// <summary>
    /// SFT examples of judging: the judge message as the user turn, the verdict as the assistant turn, loss on the
    /// assistant turn only. Each must fit <paramref name="maxLength"/> whole; also usable as a second task in the
    /// policy's own SFT.
    /// </summary>
    /// <exception cref="TrainingException">An example longer than <paramref name="maxLength"/>, naming both lengths and the fix.</exception>
    public static List<SftExample> Encode(IReadOnlyList<JudgingExample> examples, ExampleTokenizer encoder, int maxLength, Func<JudgingExample, string>? renderPrompt = null)
    {
        renderPrompt ??= WorldJudging.JudgeMessage;
        var encoded = new List<SftExample>(examples.Count);
        foreach (var e in examples)
        {
            var row = new LanguageModelingRow($"judging:{e.Id}", TextOrMessages.FromMessages(("user", renderPrompt(e)), ("assistant", e.Verdict)));
            var example = encoder.Sft(row, new SftOptions { AssistantOnlyLoss = true });
            if (example.InputIds.Length > maxLength)
                throw new TrainingException($"judge max_length: judging example {e.Id} ({e.Principle.Id}) has {example.InputIds.Length} tokens, more than max_length {maxLength}; " +
                    "raise the judge's max_length (cutting would drop the verdict)");
            encoded.Add(example);
        }
        return encoded;
    }

    /// <summary>The judging examples <see cref="Train"/> trains on (the same ones, for a tokenizer's corpus).</summary>
    public static IReadOnlyList<JudgingExample> TrainingExamples(AssistantWorld world, IEnumerable<Principle> principles, JudgeTrainingOptions options) =>
        WorldJudging.Generate(world, Select(principles, options.Principles), new JudgingOptions(options.TrainExamplesPerPrinciple, WorldJudging.TrainStream, options.OutOfScopeShare, GarbledShare: options.GarbledShare));

    /// <summary>
    /// Generates the judging data, trains a new judge (or continues <paramref name="start"/>) and measures it.
    /// Writes judging_train.jsonl and judging_test.jsonl (TRL conversational rows) beside <paramref name="outputDir"/>.
    /// </summary>
    /// <param name="world">The demo world (its seed also seeds the judge's data streams).</param>
    /// <param name="principles">The constitution's principles; <see cref="JudgeTrainingOptions.Principles"/> picks among them.</param>
    /// <param name="tokenizerFolder">The policy's tokenizer folder (tokenizer.json + tokenizer_config.json with the chat template).</param>
    /// <param name="outputDir">The judge's folder (replaced).</param>
    /// <param name="options">Sizes.</param>
    /// <param name="renderPrompt">The user message of a judging example; default <see cref="WorldJudging.JudgeMessage(JudgingExample)"/>, which must match what the judge is sent at labelling time.</param>
    /// <param name="log">Progress lines; null = none.</param>
    /// <param name="start">A model to fine-tune instead of a new tiny one (e.g. the SFT policy); null = a new one. The caller keeps ownership.</param>
    public static JudgeTrainingResult Train(AssistantWorld world, IEnumerable<Principle> principles, string tokenizerFolder, string outputDir, JudgeTrainingOptions options,
        Func<JudgingExample, string>? renderPrompt = null, TextWriter? log = null, TransformerModel? start = null)
    {
        var clock = Stopwatch.StartNew();
        renderPrompt ??= WorldJudging.JudgeMessage;
        var chosen = Select(principles, options.Principles);
        var train = TrainingExamples(world, chosen, options);
        var test = WorldJudging.Generate(world, chosen, new JudgingOptions(options.TestExamplesPerPrinciple, WorldJudging.TestStream, options.OutOfScopeShare, GarbledShare: options.GarbledShare));
        string parent = Path.GetDirectoryName(Path.GetFullPath(outputDir))!;
        Directory.CreateDirectory(parent);
        string dataset = Path.Combine(parent, "judging_train.jsonl");
        WriteJsonl(dataset, train, renderPrompt);
        WriteJsonl(Path.Combine(parent, "judging_test.jsonl"), test, renderPrompt);

        var encoder = ExampleTokenizer.FromFolder(tokenizerFolder);
        var examples = Encode(train, encoder, options.MaxLength, renderPrompt);
        var model = start ?? TransformerModel.Create(Config(encoder, options), options.Seed);
        var args = new TrainingArguments
        {
            Model = tokenizerFolder, Dataset = dataset, OutputDir = outputDir, LearningRate = options.LearningRate, LrSchedulerType = "cosine", WarmupRatio = 0.05f,
            NumTrainEpochs = options.Epochs, PerDeviceTrainBatchSize = options.BatchSize, AssistantOnlyLoss = true, MaxLength = options.MaxLength,
            LoggingSteps = 10, SaveSteps = 0, Seed = options.Seed, OverwriteOutputDir = true,
        };
        using (var trainer = TrainingMethods.Sft.CreateTrainer(args, new FullCausalLm(model), EncodedExamples.ForSft(examples, encoder.PadId, encoder.EosId)))
        {
            trainer.OwnsModel = false;
            trainer.PrepareRun();
            var result = trainer.Train();
            log?.WriteLine($"judge: {examples.Count} judging examples, {result.Steps} steps, final loss {result.FinalLoss:F4}");
        }
        foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json" }) File.Copy(Path.Combine(tokenizerFolder, f), Path.Combine(outputDir, f), overwrite: true);
        var trainTime = clock.Elapsed;
        clock.Restart();
        var evaluation = Evaluate(model, encoder, test, renderPrompt);
        log?.WriteLine($"judge: held-out accuracy {evaluation.GreedyAccuracy:P1} greedy, {evaluation.SoftAccuracy:P1} soft, on {test.Count} items");
        return new JudgeTrainingResult(model, outputDir, evaluation, examples.Count, examples.Max(e => e.InputIds.Length), trainTime, clock.Elapsed);
    }

    /// <summary>The principles named in <paramref name="ids"/> (all when empty), in the constitution's order.</summary>
    private static List<Principle> Select(IEnumerable<Principle> principles, IReadOnlyList<string> ids)
    {
        var list = principles.ToList();
        foreach (var id in ids)
            if (!list.Any(p => p.Id == id)) throw new TrainingException($"judge principles: '{id}' is not a principle of the constitution (known: {string.Join(", ", list.Select(p => p.Id))})");
        return ids.Count == 0 ? list : list.Where(p => ids.Contains(p.Id)).ToList();
    }

    private static ModelConfig Config(ExampleTokenizer encoder, JudgeTrainingOptions o)
    {
        if (o.HiddenSize % o.Heads != 0 || o.Heads % o.KvHeads != 0 || o.HiddenSize / o.Heads % 2 != 0)
            throw new TrainingException($"judge: hidden_size {o.HiddenSize}, heads {o.Heads}, kv_heads {o.KvHeads}: heads must divide hidden_size, kv_heads divide heads, and the head size be even");
        var tokenizer = encoder.Tokenizer;
        return new ModelConfig
        {
            Architecture = Architecture.Llama, VocabSize = tokenizer.VocabSize, HiddenSize = o.HiddenSize, IntermediateSize = o.IntermediateSize,
            NumLayers = o.Layers, NumHeads = o.Heads, NumKvHeads = o.KvHeads, HeadDim = o.HiddenSize / o.Heads,
            MaxPositions = Math.Max(o.MaxLength, 128), NormEps = 1e-6f, TieWordEmbeddings = true,
            EosTokenIds = [encoder.EosId], PadTokenId = encoder.PadId,
        };
    }

    /// <summary>
    /// The judge's verdicts on <paramref name="items"/>, from one forward pass per batch: the first token it would
    /// write (greedy) and P(Yes) = p(Yes) / (p(Yes) + p(No)) over the first tokens of the two verdicts.
    /// </summary>
    public static JudgeEvaluation Evaluate(TransformerModel judge, ExampleTokenizer encoder, IReadOnlyList<JudgingExample> items,
        Func<JudgingExample, string>? renderPrompt = null, int batchSize = 32)
    {
        renderPrompt ??= WorldJudging.JudgeMessage;
        int yes = VerdictToken(encoder, WorldJudging.Yes), no = VerdictToken(encoder, WorldJudging.No);
        if (yes == no) throw new TrainingException("judge: the verdicts Yes and No start with the same token, so the first token cannot tell them apart");
        var judged = new List<JudgedItem>(items.Count);
        int vocab = judge.Config.VocabSize;
        using var noGrad = Autograd.NoGrad();
        for (int start = 0; start < items.Count; start += batchSize)
        {
            var batch = items.Skip(start).Take(batchSize).ToList();
            var prompts = batch.Select(e => encoder.Prompt([new ChatMessage(ChatRole.User, renderPrompt(e))], $"judging:{e.Id}")).ToList();
            var padded = LeftPaddedBatch.Of(prompts);
            int length = padded.Length, b = padded.Batch;
            using var scope = new TensorScope();
            var hidden = judge.Hidden(padded.Ids, b, length, Tensor.FromArray(padded.Mask, b, length), padded.Positions);
            var logits = judge.LmHead(Ops.Narrow(hidden, 1, length - 1, 1)).Span;
            for (int r = 0; r < b; r++)
            {
                var row = logits.Slice(r * vocab, vocab);
                int best = 0;
                for (int v = 1; v < vocab; v++) if (row[v] > row[best]) best = v;
                // P(Yes) among the two verdicts: a logistic of the logit difference (the other tokens cancel).
                double pYes = 1 / (1 + Math.Exp(row[no] - row[yes]));
                string greedy = best == yes ? WorldJudging.Yes : best == no ? WorldJudging.No : encoder.Tokenizer.Decode([best], skipSpecialTokens: false);
                judged.Add(new JudgedItem(batch[r], greedy, pYes));
            }
        }
        return new JudgeEvaluation(judged);
    }

    /// <summary>The first token the judge writes for a verdict (after the chat template's assistant header).</summary>
    public static int VerdictToken(ExampleTokenizer encoder, string verdict)
    {
        var prompt = TextOrMessages.FromMessages(("user", "?"));
        var (_, completions) = encoder.Encode("verdict", prompt, TextOrMessages.FromMessages(("assistant", verdict)));
        return completions[0][0];
    }

    private static void WriteJsonl(string path, IReadOnlyList<JudgingExample> examples, Func<JudgingExample, string> renderPrompt)
    {
        using var writer = new JsonlFileWriter(path);
        foreach (var e in examples)
            writer.WriteLine(w =>
            {
                w.WriteStartObject();
                w.WriteStartArray("messages");
                foreach (var (role, content) in new[] { ("user", renderPrompt(e)), ("assistant", e.Verdict) })
                {
                    w.WriteStartObject();
                    w.WriteString("role", role);
                    w.WriteString("content", content);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteString("id", e.Id);
                w.WriteString("principle", e.Principle.Id);
                w.WriteString("case", e.Case);
                w.WriteEndObject();
            });
        writer.Commit();
    }
}
