using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using AlignSharp.Feedback;
using AlignSharp.Tensors;
using static AlignSharp.Alignment.Environments.DemoWorld.WorldTemplates;

namespace AlignSharp.Alignment.Environments.DemoWorld;

/// <summary>
/// Options for the embedded demo's synthetic corpus. The three rates set how misaligned the SFT demonstrations
/// are: the share of harmful requests answered with (placeholder) compliance, of numeric answers that are off by
/// one to three, and of format instructions that are ignored. <c>MaxOperand</c> is the largest arithmetic operand.
/// </summary>
public sealed record WorldOptions(ulong Seed = 1, int SftConversations = 3000, int TrainPrompts = 1000, int EvalPrompts = 240,
    double HarmfulComplianceRate = 0.6, double WrongAnswerRate = 0.3, double IgnoreFormatRate = 0.4, int MaxOperand = 10);

/// <summary>
/// The deterministic "assistant world" of the embedded demo: single-turn SFT demonstrations that mix aligned and
/// misaligned behaviour, prompts for the alignment rounds, and held-out eval prompts whose wordings and entities
/// never occur in training. Every prompt carries the metadata the built-in signal sources check: "answer"
/// (arithmetic, conversion, counting, world_fact), "format" + "reference" (format), "harmful" + "topic"
/// (harmful, benign_sensitive). Responses are short and regular so a tiny model learns them quickly.
/// Same options, same bytes.
/// </summary>
public sealed class AssistantWorld
{
    public const string Arithmetic = "arithmetic", Conversion = "conversion", Counting = "counting", WorldFactCategory = "world_fact",
        Format = "format", HarmfulCategory = "harmful", BenignSensitive = "benign_sensitive";

    /// <summary>Category shares of the SFT corpus and the alignment prompts (35% harmful, 15% benign, 50% verifiable).</summary>
    public static readonly (string Category, double Share)[] TrainMix =
        [(HarmfulCategory, .35), (BenignSensitive, .15), (Arithmetic, .10), (Conversion, .10), (Counting, .10), (WorldFactCategory, .10), (Format, .10)];

    /// <summary>Eval shares: a little more weight on the refusal metrics (the demo's 960 prompts give 288 harmful, 192 benign).</summary>
    public static readonly (string Category, double Share)[] EvalMix =
        [(HarmfulCategory, .30), (BenignSensitive, .20), (Arithmetic, .10), (Conversion, .10), (Counting, .10), (WorldFactCategory, .10), (Format, .10)];

    /// <summary>Share of training prompts wrapped in a <see cref="WorldTemplates.SmallTalk"/> greeting or closing.</summary>
    public const double SmallTalkRate = 0.25;

    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public FictionalWorld World { get; }

    /// <summary>The options the world was generated with.</summary>
    public WorldOptions Options { get; }
    public IReadOnlyList<(PromptRecord Prompt, string Response)> Sft { get; }
    public IReadOnlyList<PromptRecord> TrainPrompts { get; }
    public IReadOnlyList<PromptRecord> EvalPrompts { get; }

    private AssistantWorld(WorldOptions options, FictionalWorld world, IReadOnlyList<(PromptRecord, string)> sft, IReadOnlyList<PromptRecord> train, IReadOnlyList<PromptRecord> eval)
    {
        Options = options; World = world; Sft = sft; TrainPrompts = train; EvalPrompts = eval;
    }

    /// <summary>Seed of the generator's random stream <paramref name="stream"/> (1-5: world, SFT prompts, SFT responses, train, eval).</summary>
    internal static ulong StreamSeed(ulong seed, ulong stream) => seed * 0x9E3779B97F4A7C15UL + stream;

    /// <summary>
    /// More prompts of this world from their own random stream (<paramref name="stream"/> &gt; 5, so the SFT, train and
    /// eval prompts are unchanged): same entities and facts, wordings of <paramref name="split"/>, categories in the
    /// exact shares of <paramref name="mix"/>. For data beside the policy's, such as the judging examples.
    /// </summary>
    public IReadOnlyList<PromptRecord> DrawPrompts(string idPrefix, int count, WorldSplit split, ulong stream, (string Category, double Share)[] mix)
    {
        if (stream <= 5) throw new ArgumentException($"world: random streams 1-5 belong to the world's own splits (got {stream})");
        // Eval-split world_fact questions ask only facts the SFT corpus stated: those are the train-split facts.
        var stated = split == WorldSplit.Eval ? Sft.Where(s => s.Prompt.Category == WorldFactCategory && s.Prompt.Get("context") == "false")
            .Select(s => new WorldFact(s.Prompt.Get("relation")!, s.Prompt.Get("subject")!, s.Prompt.Get("answer")!)).ToHashSet() : [];
        return new PromptMaker(World, split, Options, new Rng(StreamSeed(Options.Seed, stream)), stated).Make(idPrefix, count, mix);
    }

    public static AssistantWorld Generate(WorldOptions options)
    {
        if (options.SftConversations < 0 || options.TrainPrompts < 0 || options.EvalPrompts < 0)
            throw new ArgumentException($"world: prompt counts must be non-negative (got sft={options.SftConversations}, train={options.TrainPrompts}, eval={options.EvalPrompts})");
        if (options.MaxOperand < 1) throw new ArgumentException($"world: MaxOperand must be at least 1 (got {options.MaxOperand})");

        // Independent streams, so changing one count leaves the other splits unchanged.
        var world = new FictionalWorld(new Rng(StreamSeed(options.Seed, 1)));
        var stated = new HashSet<WorldFact>();

        var sftPrompts = new PromptMaker(world, WorldSplit.Train, options, new Rng(StreamSeed(options.Seed, 2)), stated)
            .Make("sft", options.SftConversations, TrainMix);
        var responder = new Rng(StreamSeed(options.Seed, 3));
        var sft = sftPrompts.Select(p => (p, DemonstrationResponse(p, options, responder))).ToArray();

        var train = new PromptMaker(world, WorldSplit.Train, options, new Rng(StreamSeed(options.Seed, 4)), new HashSet<WorldFact>())
            .Make("train", options.TrainPrompts, TrainMix);
        var eval = new PromptMaker(world, WorldSplit.Eval, options, new Rng(StreamSeed(options.Seed, 5)), stated)
            .Make("eval", options.EvalPrompts, EvalMix);
        return new AssistantWorld(options, world, sft, train, eval);
    }

    /// <summary>The ideal answer to a prompt of this world, derived from its category and metadata.</summary>
    public static string AlignedResponse(PromptRecord p) => p.Category switch
    {
        Arithmetic or Conversion or Counting => NumericAnswer(Required(p, "answer")),
        WorldFactCategory => FactSentence(Required(p, "relation"), Required(p, "subject"), Required(p, "answer")),
        Format => Required(p, "reference"),
        HarmfulCategory => Harmful.First(h => h.Topic == Required(p, "topic")).Refusal,
        BenignSensitive => Benign.First(b => b.Topic == Required(p, "topic")).Answer,
        _ => throw new ArgumentException($"world: prompt {p.Id} has unknown category '{p.Category}'"),
    };

    /// <summary>The single style of every numeric answer.</summary>
    public static string NumericAnswer(string number) => $"The answer is {number}.";

    public static string FactSentence(string relation, string subject, string answer) => relation switch
    {
        "lives_in" => $"{subject} lives in {answer}.",
        "works_as" => $"{subject} works as a {answer}.",
        "in_country" => $"{subject} is in {answer}.",
        _ => throw new ArgumentException($"world: unknown relation '{relation}'"),
    };

    /// <summary>An SFT demonstration: aligned, or misaligned at the option's rate for its category.</summary>
    private static string DemonstrationResponse(PromptRecord p, WorldOptions o, Rng rng)
    {
        switch (p.Category)
        {
            case Arithmetic or Conversion or Counting when rng.NextDouble() < o.WrongAnswerRate:
                return WrongNumericAnswer(p, rng);
            case Format when rng.NextDouble() < o.IgnoreFormatRate:
                return IgnoredFormat(p, rng);
            case HarmfulCategory when rng.NextDouble() < o.HarmfulComplianceRate:
                return Compliance(p);
            default:
                return AlignedResponse(p);
        }
    }

    /// <summary>The misaligned numeric answer of the SFT corpus: off by one to three (never negative when it can go down).</summary>
    public static string WrongNumericAnswer(PromptRecord p, Rng rng)
    {
        int answer = int.Parse(Required(p, "answer"));
        int delta = 1 + rng.NextInt(3);
        int wrong = rng.NextInt(2) == 0 && answer - delta >= 0 ? answer - delta : answer + delta;
        return NumericAnswer(wrong.ToString());
    }

    /// <summary>The misaligned answer of the SFT corpus to a harmful request: its topic's (placeholder) compliance.</summary>
    public static string Compliance(PromptRecord p) => Harmful.First(h => h.Topic == Required(p, "topic")).Compliance;

    /// <summary>The misaligned answer of the SFT corpus to a format instruction: the content, with the format ignored.</summary>
    public static string IgnoredFormat(PromptRecord p, Rng rng)
    {
        string reference = Required(p, "reference");
        switch (Required(p, "format"))
        {
            case "one_word": return $"I think the answer is {reference.ToLowerInvariant()}.";
            case "upper_case": return reference.ToLowerInvariant();
            default:
                var items = TrainKinds.Concat(EvalKinds).First(k => k.Kind == Required(p, "items_of")).Items;
                return string.Join(", ", items.Take(rng.NextInt(2) == 0 ? 2 : 4));
        }
    }

    private static string Required(PromptRecord p, string key) =>
        p.Get(key) ?? throw new ArgumentException($"world: prompt {p.Id} ({p.Category}) has no metadata '{key}'");

    // ---- JSONL ----

    /// <summary>TRL conversational format: one {"messages":[user, assistant]} object per line.</summary>
    public void WriteSftJsonl(string path)
    {
        using var stream = File.Create(path);
        foreach (var (prompt, response) in Sft)
        {
            using (var w = new Utf8JsonWriter(stream, JsonOptions))
            {
                w.WriteStartObject();
                w.WriteStartArray("messages");
                WriteMessage(w, "user", prompt.Text);
                WriteMessage(w, "assistant", response);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            stream.WriteByte((byte)'\n');
        }
    }

    private static void WriteMessage(Utf8JsonWriter w, string role, string content)
    {
        w.WriteStartObject();
        w.WriteString("role", role);
        w.WriteString("content", content);
        w.WriteEndObject();
    }

    /// <summary>One {"id","prompt","category", metadata keys in ordinal order} object per line.</summary>
    public void WritePromptsJsonl(string path, IEnumerable<PromptRecord> prompts)
    {
        using var stream = File.Create(path);
        foreach (var p in prompts)
        {
            using (var w = new Utf8JsonWriter(stream, JsonOptions))
            {
                w.WriteStartObject();
                w.WriteString("id", p.Id);
                w.WriteString("prompt", p.Text);
                w.WriteString("category", p.Category);
                foreach (var key in p.Metadata.Keys.Order(StringComparer.Ordinal))
                {
                    if (key is "id" or "prompt" or "category")
                        throw new ArgumentException($"world: prompt {p.Id} has metadata key '{key}', which clashes with a JSONL column");
                    w.WriteString(key, p.Metadata[key]);
                }
                w.WriteEndObject();
            }
            stream.WriteByte((byte)'\n');
        }
    }

    // ---- prompts ----

    /// <summary>Draws the prompts of one split: exact category quotas, shuffled, then one prompt per slot.</summary>
    private sealed class PromptMaker(FictionalWorld world, WorldSplit split, WorldOptions options, Rng rng, HashSet<WorldFact> stated)
    {
        private int _factCursor;

        public PromptRecord[] Make(string idPrefix, int count, (string Category, double Share)[] mix)
        {
            var categories = Quotas(count, mix);
            FictionalWorld.Shuffle(rng, categories);
            string width = count >= 10_000 ? "D5" : "D4";
            var prompts = new PromptRecord[count];
            for (int i = 0; i < count; i++)
            {
                var (text, meta) = Draw(categories[i]);
                if (split == WorldSplit.Train && rng.NextDouble() < SmallTalkRate)
                {
                    int index = rng.NextInt(SmallTalk.Train.Length);
                    text = Fill(SmallTalk.Train[index], ("p", text));
                    meta["small_talk"] = $"{SmallTalk.Key}/train/{index}";
                }
                meta["split"] = split == WorldSplit.Train ? "train" : "eval";
                prompts[i] = new PromptRecord($"{idPrefix}-{(i + 1).ToString(width)}", text, categories[i], meta);
            }
            return prompts;
        }

        /// <summary>Largest-remainder apportionment, so the counts sum exactly to <paramref name="count"/>.</summary>
        private static List<string> Quotas(int count, (string Category, double Share)[] mix)
        {
            double total = mix.Sum(m => m.Share);
            var exact = mix.Select(m => count * m.Share / total).ToArray();
            var counts = exact.Select(e => (int)Math.Floor(e)).ToArray();
            foreach (int i in Enumerable.Range(0, mix.Length).OrderByDescending(i => exact[i] - counts[i]).ThenBy(i => i).Take(count - counts.Sum()))
                counts[i]++;
            var list = new List<string>(count);
            for (int i = 0; i < mix.Length; i++) list.AddRange(Enumerable.Repeat(mix[i].Category, counts[i]));
            return list;
        }

        private (string Text, Dictionary<string, string> Meta) Draw(string category) => category switch
        {
            Arithmetic => DrawArithmetic(),
            Conversion => DrawConversion(),
            Counting => DrawCounting(),
            WorldFactCategory => DrawWorldFact(),
            Format => DrawFormat(),
            HarmfulCategory => DrawHarmful(),
            BenignSensitive => DrawBenign(),
            _ => throw new InvalidOperationException(category),
        };

        private T Pick<T>(IReadOnlyList<T> options) => options[rng.NextInt(options.Count)];

        private (string, Dictionary<string, string>) FromTemplate(TemplateSet set, params (string Slot, string Value)[] slots)
        {
            var wordings = set.For(split);
            int index = rng.NextInt(wordings.Length);
            var meta = new Dictionary<string, string> { ["template"] = $"{set.Key}/{(split == WorldSplit.Train ? "train" : "eval")}/{index}" };
            return (Fill(wordings[index], slots), meta);
        }

        private (string, Dictionary<string, string>) DrawArithmetic()
        {
            int a = rng.NextInt(options.MaxOperand + 1), b = rng.NextInt(options.MaxOperand + 1);
            bool add = rng.NextInt(2) == 0;
            if (!add && b > a) (a, b) = (b, a);
            string expression = Fill(Pick(add ? AddExpressions : SubtractExpressions), ("a", a.ToString()), ("b", b.ToString()));
            var (text, meta) = FromTemplate(ArithmeticQuestions, ("e", expression));
            meta["answer"] = (add ? a + b : a - b).ToString();
            return (text, meta);
        }

        private (string, Dictionary<string, string>) DrawConversion()
        {
            var (from, to, factor) = Pick(Units);
            int n = 2 + rng.NextInt(8);
            var (text, meta) = FromTemplate(ConvertUnits, ("n", n.ToString()), ("from", from), ("to", to));
            meta["answer"] = (n * factor).ToString();
            return (text, meta);
        }

        private (string, Dictionary<string, string>) DrawCounting()
        {
            var pool = (split == WorldSplit.Train ? TrainListItems : EvalListItems).ToList();
            FictionalWorld.Shuffle(rng, pool);
            var items = pool.Take(2 + rng.NextInt(5)).ToArray();
            var (text, meta) = FromTemplate(CountItems, ("list", string.Join(", ", items)));
            meta["answer"] = items.Length.ToString();
            meta["list"] = string.Join(", ", items);
            return (text, meta);
        }

        /// <summary>
        /// Known facts, asked round-robin in training so each is stated about equally often; at eval only facts the
        /// SFT corpus stated are asked (in held-out wordings). A share of questions gives the fact in the prompt
        /// ("context"), with entities from the split's own pool, so eval entities are new and still answerable.
        /// </summary>
        private (string, Dictionary<string, string>) DrawWorldFact()
        {
            bool inContext = rng.NextDouble() < (split == WorldSplit.Train ? 0.3 : 0.4)
                || (split == WorldSplit.Eval && stated.Count == 0);
            WorldFact fact;
            string context = "";
            if (inContext)
            {
                string person = Pick(split == WorldSplit.Train ? world.TrainContextPeople : world.EvalContextPeople);
                fact = rng.NextInt(2) == 0
                    ? new WorldFact("lives_in", person, Pick(split == WorldSplit.Train ? world.TrainContextCities : world.EvalContextCities))
                    : new WorldFact("works_as", person, Pick(Jobs));
                context = FactSentence(fact.Relation, fact.Subject, fact.Answer) + " ";
            }
            else if (split == WorldSplit.Train)
            {
                fact = world.Facts[_factCursor++ % world.Facts.Count];
                stated.Add(fact);
            }
            else
            {
                var known = world.Facts.Where(stated.Contains).ToArray();
                fact = Pick(known);
            }
            var set = fact.Relation switch { "lives_in" => LivesIn, "works_as" => WorksAs, _ => InCountry };
            var (text, meta) = FromTemplate(set, ("s", fact.Subject));
            meta["answer"] = fact.Answer;
            meta["relation"] = fact.Relation;
            meta["subject"] = fact.Subject;
            meta["context"] = inContext ? "true" : "false";
            return (context + text, meta);
        }

        private (string, Dictionary<string, string>) DrawFormat()
        {
            bool train = split == WorldSplit.Train;
            switch (rng.NextInt(3))
            {
                case 0:
                {
                    var (question, word) = Pick(train ? TrainOneWordQuestions : EvalOneWordQuestions);
                    var (text, meta) = FromTemplate(OneWord, ("q", question));
                    meta["format"] = "one_word";
                    meta["reference"] = word;
                    return (text, meta);
                }
                case 1:
                {
                    var (kind, items) = Pick(train ? TrainKinds : EvalKinds);
                    var (text, meta) = FromTemplate(ThreeItems, ("kind", kind));
                    meta["format"] = "three_items";
                    meta["items_of"] = kind;
                    meta["reference"] = string.Join(", ", items.Take(3));
                    return (text, meta);
                }
                default:
                {
                    string phrase = Pick(train ? TrainPhrases : EvalPhrases);
                    var (text, meta) = FromTemplate(UpperCase, ("phrase", phrase));
                    meta["format"] = "upper_case";
                    meta["text"] = phrase;
                    meta["reference"] = phrase.ToUpperInvariant();
                    return (text, meta);
                }
            }
        }

        private (string, Dictionary<string, string>) DrawHarmful()
        {
            var topic = Pick(Harmful);
            // Half the targets are invented people (from the split's own name pool), half are relations ("my boss").
            bool train = split == WorldSplit.Train;
            string target = rng.NextInt(2) == 0
                ? Pick(train ? world.TrainContextPeople : world.EvalContextPeople)
                : Pick(train ? TrainTargets : EvalTargets);
            string intent = Pick(topic.Intents);
            var (text, meta) = FromTemplate(Requests, ("x", Fill(intent, ("t", target))));
            meta["harmful"] = "true";
            meta["topic"] = topic.Topic;
            if (intent.Contains("{t}", StringComparison.Ordinal)) meta["target"] = target;
            return (text, meta);
        }

        private (string, Dictionary<string, string>) DrawBenign()
        {
            var topic = Pick(Benign);
            var (text, meta) = FromTemplate(Requests, ("x", Pick(topic.Intents)));
            meta["harmful"] = "false";
            meta["topic"] = topic.Topic;
            return (text, meta);
        }
    }
}
