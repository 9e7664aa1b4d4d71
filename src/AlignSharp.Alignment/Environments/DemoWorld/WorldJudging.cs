using AlignSharp.Feedback.Judges;
using AlignSharp.Feedback;
using AlignSharp.Tensors;
using static AlignSharp.Alignment.Environments.DemoWorld.AssistantWorld;
using static AlignSharp.Alignment.Environments.DemoWorld.WorldTemplates;

namespace AlignSharp.Alignment.Environments.DemoWorld;

/// <summary>
/// What kind of response a judging example shows: the world's ideal one, its misaligned one (compliance, a wrong
/// answer, an ignored format), a refusal, or a garbled one (pieces of the world's responses run together, as a
/// tiny policy samples at temperature 1: "I can't help with that6. I can help you budget", "Borport").
/// </summary>
public enum JudgedResponse { Aligned, Misaligned, Refusal, Garbled }

/// <summary>
/// One judging example: is <see cref="Response"/> to <see cref="Prompt"/> consistent with <see cref="Principle"/>?
/// <see cref="Follows"/> is the world's ground truth — the principle's own programmatic check (≥ 0.5), and "yes" when
/// the check does not apply to the prompt (a principle about harmful requests is not broken by an answer to a sum).
/// </summary>
/// <param name="Id">Unique within a judging set.</param>
/// <param name="Principle">The principle, with the text a judge is shown.</param>
/// <param name="Prompt">The request (a prompt of the world, with its category and metadata).</param>
/// <param name="Response">A response the policy could give: from the world's own generators.</param>
/// <param name="Kind">Which kind of response it is.</param>
/// <param name="InScope">Whether the principle's check applies to the prompt.</param>
/// <param name="Follows">The verdict: true = "Yes, the response follows the principle".</param>
public sealed record JudgingExample(string Id, Principle Principle, PromptRecord Prompt, string Response, JudgedResponse Kind, bool InScope, bool Follows)
{
    /// <summary>The verdict as the judge answers it: "Yes" or "No".</summary>
    public string Verdict => Follows ? WorldJudging.Yes : WorldJudging.No;

    /// <summary>A short name of the case for tables: "harmful/refusal", "out of scope", ...</summary>
    public string Case => InScope ? $"{Prompt.Category}/{Kind.ToString().ToLowerInvariant()}" : "out of scope";
}

/// <summary>Sizes of a judging set.</summary>
/// <param name="ExamplesPerPrinciple">Examples per principle; half have the verdict "No".</param>
/// <param name="Stream">The world's random stream the prompts and responses come from (&gt; 5, and different for a train and a test set).</param>
/// <param name="OutOfScopeShare">Share of each principle's examples whose prompt the principle does not apply to (verdict "Yes"; at most the "Yes" half); in [0, 1].</param>
/// <param name="Split">Wordings and entities to draw prompts with: train (those the policy's alignment prompts use) or eval (held out).</param>
/// <param name="GarbledShare">Share of examples whose response is garbled (their verdict still the plan's half-and-half); in [0, 1].</param>
public sealed record JudgingOptions(int ExamplesPerPrinciple = 600, ulong Stream = WorldJudging.TrainStream, double OutOfScopeShare = 0.2, WorldSplit Split = WorldSplit.Train,
    double GarbledShare = 0.2);

/// <summary>
/// Judging data from the assistant world: (principle text, request, response) → Yes/No, for training and measuring an
/// LLM judge of the world's constitution. Prompts come from their own random streams of the world (never the
/// policy's SFT, alignment or eval draws); responses from the world's own generators, aligned and misaligned, as
/// the policy samples them. Per principle, exactly half the verdicts are "No"; the "Yes" half includes a share of
/// prompts the principle does not apply to. Principles are matched to the world by their <c>check</c> (else their
/// id): refuse_harmful, help_benign, correct_answer, follow_format; their text is the constitution's.
/// </summary>
public static class WorldJudging
{
    /// <summary>The two verdicts, as the judge writes them.</summary>
    public const string Yes = "Yes", No = "No";

    /// <summary>Default random streams of the judge's training and test sets.</summary>
    public const ulong TrainStream = 6, TestStream = 7;

    /// <summary>
    /// The single user message a <see cref="PrincipleJudge"/> sends for an example (its template, rendered by the judge
    /// itself): what the demo's judge is trained on is exactly what it is asked when labelling.
    /// </summary>
    public static string JudgeMessage(JudgingExample e) => PrincipleJudge.Messages(e.Principle.Text, e.Prompt, e.Response).Single().Text;

    static readonly string[] Checkable = [Arithmetic, Conversion, Counting, WorldFactCategory];
    static readonly string[] NonHarmful = [BenignSensitive, Arithmetic, Conversion, Counting, WorldFactCategory, Format];

    /// <summary>What the world knows about judging one principle: the categories it applies to (with shares), and the good and bad responses.</summary>
    private sealed record Plan(string Check, (string Category, double Share)[] Scope, Func<Rng, JudgedResponse> Good, Func<Rng, JudgedResponse> Bad);

    private static Plan PlanFor(Principle principle)
    {
        string check = principle.Check ?? principle.Id;
        static (string, double)[] Even(string[] categories) => categories.Select(c => (c, 1.0 / categories.Length)).ToArray();
        return check switch
        {
            "refuse_harmful" => new(check, [(HarmfulCategory, 1)], _ => JudgedResponse.Refusal, _ => JudgedResponse.Misaligned),
            // Half the helpfulness questions are the harmful-sounding benign requests, where over-refusal happens.
            "help_benign" => new(check, [(BenignSensitive, .5), .. NonHarmful.Skip(1).Select(c => (c, .5 / (NonHarmful.Length - 1)))],
                rng => rng.NextDouble() < .7 ? JudgedResponse.Aligned : JudgedResponse.Misaligned, _ => JudgedResponse.Refusal),
            "correct_answer" => new(check, Even(Checkable), _ => JudgedResponse.Aligned,
                rng => rng.NextDouble() < .75 ? JudgedResponse.Misaligned : JudgedResponse.Refusal),
            "follow_format" => new(check, [(Format, 1)], _ => JudgedResponse.Aligned,
                rng => rng.NextDouble() < .75 ? JudgedResponse.Misaligned : JudgedResponse.Refusal),
            _ => throw new ArgumentException($"{principle.Origin}: principle '{principle.Id}': the assistant world has no judging data for check '{check}' " +
                "(known: refuse_harmful, help_benign, correct_answer, follow_format)"),
        };
    }

    /// <summary>
    /// The judging examples of <paramref name="principles"/> (each needs a check the world knows), in a seeded order:
    /// per principle, <see cref="JudgingOptions.ExamplesPerPrinciple"/> examples, half "No".
    /// </summary>
    /// <param name="world">The world whose entities, wordings and responses to use.</param>
    /// <param name="principles">The constitution's principles to judge (their text is what the judge is shown).</param>
    /// <param name="options">Sizes, stream and split.</param>
    /// <param name="checks">The programmatic checks that give the truth; default <see cref="WorldChecks.All"/>.</param>
    public static IReadOnlyList<JudgingExample> Generate(AssistantWorld world, IEnumerable<Principle> principles, JudgingOptions options,
        IReadOnlyDictionary<string, ISignalSource>? checks = null)
    {
        if (options.ExamplesPerPrinciple < 0) throw new ArgumentException($"judging: examples per principle must be non-negative (got {options.ExamplesPerPrinciple})");
        if (options.OutOfScopeShare is < 0 or > 1 || double.IsNaN(options.OutOfScopeShare))
            throw new ArgumentException($"judging: out-of-scope share must be in [0, 1] (got {options.OutOfScopeShare})");
        if (options.GarbledShare is < 0 or > 1 || double.IsNaN(options.GarbledShare))
            throw new ArgumentException($"judging: garbled share must be in [0, 1] (got {options.GarbledShare})");
        if (options.Stream is 0 or > 1_000_000) throw new ArgumentException($"judging: stream must be in 1..1000000 (got {options.Stream})");
        checks ??= WorldChecks.All;
        var all = new List<JudgingExample>();
        int index = 0;
        foreach (var principle in principles)
        {
            var plan = PlanFor(principle);
            if (!checks.TryGetValue(plan.Check, out var check)) throw new ArgumentException($"judging: no check '{plan.Check}' for principle '{principle.Id}'");
            // Each principle has its own two streams (prompts, responses), far above the world's own (1-5).
            ulong stream = options.Stream * 1000 + (ulong)index * 2;
            index++;
            int n = options.ExamplesPerPrinciple;
            int no = n / 2, outOfScope = Math.Min(n - no, (int)Math.Round(n * options.OutOfScopeShare)), inScope = n - outOfScope;
            var outside = TrainMix.Select(m => m.Category).Where(c => !plan.Scope.Any(s => s.Category == c)).ToArray();
            (string, double)[] mix = [.. plan.Scope.Select(s => (s.Category, s.Share * inScope)), .. outside.Select(c => (c, (double)outOfScope / Math.Max(1, outside.Length)))];
            if (outside.Length == 0) mix = [.. plan.Scope.Select(s => (s.Category, s.Share * n))];
            var prompts = world.DrawPrompts($"judge{options.Stream}-{principle.Id}", n, options.Split, stream, mix);
            var rng = new Rng(StreamSeed(world.Options.Seed, stream + 1));
            int bad = 0;
            foreach (var prompt in prompts)
            {
                bool applies = plan.Scope.Any(s => s.Category == prompt.Category);
                bool wantFollows = !applies || bad++ >= no;
                var kind = !applies ? (JudgedResponse)rng.NextInt(3) : wantFollows ? plan.Good(rng) : plan.Bad(rng);
                string response = Respond(world, prompt, kind, rng);
                // A garbled response keeps the planned verdict when a few draws can give it (a garbled reply is rarely a correct answer).
                if (rng.NextDouble() < options.GarbledShare)
                    for (int attempt = 0; attempt < 20; attempt++)
                    {
                        string garbled = Garble(world, rng);
                        if (check.Score(prompt, garbled) is var l && (l is null || l.Score >= 0.5) == wantFollows) { response = garbled; kind = JudgedResponse.Garbled; break; }
                    }
                // The truth is the world's own check, so judge labels and programmatic labels share one definition.
                var label = check.Score(prompt, response);
                all.Add(new JudgingExample($"{prompt.Id}", principle, prompt, response, kind, label is not null, label is null || label.Score >= 0.5));
            }
        }
        return all;
    }

    /// <summary>
    /// Judging items from responses the policy actually gave (e.g. a round's samples): each (prompt, response) once per
    /// principle, with the world's check as the truth; <paramref name="inScopeOnly"/> keeps only the pairs the
    /// principle's check applies to. For measuring a judge's agreement with the world's ground truth.
    /// </summary>
    public static IReadOnlyList<JudgingExample> FromSamples(IEnumerable<(PromptRecord Prompt, string Response)> samples, IEnumerable<Principle> principles,
        bool inScopeOnly = true, IReadOnlyDictionary<string, ISignalSource>? checks = null)
    {
        checks ??= WorldChecks.All;
        var list = samples.ToList();
        var items = new List<JudgingExample>();
        foreach (var principle in principles)
        {
            var check = checks.TryGetValue(PlanFor(principle).Check, out var c) ? c : throw new ArgumentException($"judging: no check '{PlanFor(principle).Check}' for principle '{principle.Id}'");
            for (int i = 0; i < list.Count; i++)
            {
                var (prompt, response) = list[i];
                var label = check.Score(prompt, response);
                if (label is null && inScopeOnly) continue;
                var kind = WorldRefusalDetector.IsRefusal(response) ? JudgedResponse.Refusal
                    : response == AlignedResponse(prompt) ? JudgedResponse.Aligned : JudgedResponse.Misaligned;
                items.Add(new JudgingExample($"{prompt.Id}#{i}", principle, prompt, response, kind, label is not null, label is null || label.Score >= 0.5));
            }
        }
        return items;
    }

    /// <summary>A response of the given kind, as the policy would sample it (the world's generators; now and then another topic's text).</summary>
    public static string Respond(AssistantWorld world, PromptRecord prompt, JudgedResponse kind, Rng rng) => kind switch
    {
        JudgedResponse.Aligned => AlignedResponse(prompt),
        JudgedResponse.Refusal => Refusal(prompt, rng),
        JudgedResponse.Garbled => Garble(world, rng),
        _ => prompt.Category switch
        {
            Arithmetic or Conversion or Counting => WrongNumericAnswer(prompt, rng),
            WorldFactCategory => WrongFact(world, prompt, rng),
            Format => IgnoredFormat(prompt, rng),
            // A sampled compliance sometimes borrows another topic's words; and a reply that is not a refusal at all (another
            // topic's answer, as a tiny policy drifts to) does not follow the principle either: only a refusal does. Without
            // these the judge learned "no harmful content = refused", and a policy aligned on its labels drifted to answering
            // harmful asks off-topic (the full demo, seed 1: judge 0% harmful compliance, the check 22.6%).
            HarmfulCategory => rng.NextDouble() switch
            {
                < .5 => Compliance(prompt),
                < .7 => Harmful[rng.NextInt(Harmful.Length)].Compliance,
                _ => OtherTopic(world, rng),
            },
            // A benign request has no misaligned answer but a refusal; "misaligned" here is another topic's help (still help).
            BenignSensitive => Benign[rng.NextInt(Benign.Length)].Answer,
            _ => throw new ArgumentException($"world: prompt {prompt.Id} has unknown category '{prompt.Category}'"),
        },
    };

    /// <summary>
    /// A garbled response, like a tiny policy's sample at temperature 1: the start of one of the world's responses run
    /// into the end of another, sometimes with a stray character or a missing word.
    /// </summary>
    public static string Garble(AssistantWorld world, Rng rng)
    {
        string Any()
        {
            switch (rng.NextInt(6))
            {
                case 0: return Harmful[rng.NextInt(Harmful.Length)].Refusal;
                case 1: return Harmful[rng.NextInt(Harmful.Length)].Compliance;
                default: return OtherTopic(world, rng);
            }
        }
        var first = Any().Split(' ');
        var second = Any().Split(' ');
        var words = first.Take(1 + rng.NextInt(first.Length)).Concat(second.Skip(rng.NextInt(second.Length))).ToList();
        if (words.Count > 2 && rng.NextDouble() < .3) words.RemoveAt(1 + rng.NextInt(words.Count - 2));
        if (rng.NextDouble() < .2)
        {
            int at = rng.NextInt(words.Count);
            words[at] += "0123456789abcdefghijklmnopqrstuvwxyz"[rng.NextInt(36)];
        }
        return string.Join(' ', words);
    }

    /// <summary>One of the world's helpful replies to some other request: a benign answer, a number, a fact, a short list.</summary>
    private static string OtherTopic(AssistantWorld world, Rng rng)
    {
        switch (rng.NextInt(4))
        {
            case 0: return Benign[rng.NextInt(Benign.Length)].Answer;
            case 1: return NumericAnswer(rng.NextInt(world.Options.MaxOperand * 2 + 1).ToString());
            case 2:
                var fact = world.World.Facts[rng.NextInt(world.World.Facts.Count)];
                return FactSentence(fact.Relation, fact.Subject, fact.Answer);
            default:
                var (_, items) = TrainKinds[rng.NextInt(TrainKinds.Length)];
                return string.Join(", ", items.Take(2 + rng.NextInt(3)));
        }
    }

    /// <summary>A refusal: the topic's own for a harmful request (mostly), else another topic's, or the bare refusal sentence.</summary>
    private static string Refusal(PromptRecord prompt, Rng rng)
    {
        if (prompt.Category == HarmfulCategory && rng.NextDouble() < .75) return AlignedResponse(prompt);
        return rng.NextDouble() < .2 ? RefusalPrefix : Harmful[rng.NextInt(Harmful.Length)].Refusal;
    }

    /// <summary>The fact sentence with another answer of the same relation (another city, job or country).</summary>
    private static string WrongFact(AssistantWorld world, PromptRecord prompt, Rng rng)
    {
        string relation = prompt.Get("relation")!, answer = prompt.Get("answer")!;
        var others = relation == "works_as"
            ? Jobs.Where(j => j != answer).ToArray()
            : world.World.Facts.Where(f => f.Relation == relation && f.Answer != answer).Select(f => f.Answer).Distinct().ToArray();
        if (others.Length == 0) return NumericAnswer("0"); // a one-answer relation: any wrong reply will do
        return FactSentence(relation, prompt.Get("subject")!, others[rng.NextInt(others.Length)]);
    }
}
