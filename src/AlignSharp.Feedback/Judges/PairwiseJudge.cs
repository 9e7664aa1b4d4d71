using System.Globalization;
using AlignSharp.Feedback.Store;
using Microsoft.Extensions.AI;

namespace AlignSharp.Feedback.Judges;

/// <summary>Two responses to one prompt, to be compared.</summary>
public readonly record struct PairItem(PromptRecord Prompt, string A, string B);

/// <summary>
/// A pairwise judgement: the order-averaged verdict on (A, B) and the verdicts of the two orders it came from, each
/// in the order shown (in <see cref="BFirst"/>, "A" is response B).
/// </summary>
/// <param name="Prompt">The prompt.</param>
/// <param name="A">The first response of the pair.</param>
/// <param name="B">The second response of the pair.</param>
/// <param name="Verdict">The order-averaged verdict; its <see cref="JudgeVerdict.ProbabilityA"/> is P(A is better).</param>
/// <param name="AFirst">The verdict with A shown first.</param>
/// <param name="BFirst">The verdict with B shown first.</param>
public sealed record PairwiseJudgement(PromptRecord Prompt, string A, string B, JudgeVerdict Verdict, JudgeVerdict AFirst, JudgeVerdict BFirst)
{
    /// <summary>Both orders were readable and the preferred response (mapped back to A/B) differs between them.</summary>
    public bool Flipped => AFirst.Preferred != PairwisePreference.Unparsable && BFirst.Preferred != PairwisePreference.Unparsable
        && AFirst.Preferred != PositionBias.Swap(BFirst.Preferred);

    /// <summary>
    /// The judgement as a preference pair for DPO-style trainers: chosen = the preferred response, its label's score
    /// P(chosen better) and the rejected one's 1 − that, so the margin is 2·P − 1. Null on a tie or an unparsable verdict.
    /// </summary>
    public PreferencePair? ToPreferencePair()
    {
        if (Verdict.ProbabilityA is not { } pA || Verdict.Preferred is not (PairwisePreference.A or PairwisePreference.B)) return null;
        bool a = Verdict.Preferred == PairwisePreference.A;
        double p = a ? pA : 1 - pA;
        return new PreferencePair(Prompt, a ? A : B, a ? B : A,
            new FeedbackLabel(p, Verdict.Rationale, Verdict.Provenance), new FeedbackLabel(1 - p, Verdict.Rationale, Verdict.Provenance));
    }
}

/// <summary>
/// "Which of these two responses follows principle P better?" asked of a model in both orders (A first, then B
/// first), because judges favour a position (Zheng et al. 2023, "Judging LLM-as-a-Judge with MT-Bench and Chatbot
/// Arena", §3.3–3.4). Each order gives P(the response shown first is better): with token log-probs, the soft label
/// P(A) / (P(A) + P(B)) at the verdict token, as in Constitutional AI's RL stage (Bai et al. 2022, §4.1); without,
/// 1, 0 or 0.5 for A, B or a tie. The judgement's P(A better) is the mean over the readable orders (order 2 mapped
/// back: 1 − p), and it is a tie within <see cref="JudgeOptions.TieMargin"/> of 0.5. A reference answer in the
/// prompt's metadata ("reference") goes into the prompt. With a store, every question (judge, prompt, first,
/// second) is looked up first and every answer stored, so a re-run asks nothing twice; the judge also counts how
/// often its verdict flips with the order (<see cref="Bias"/>; from a store: <see cref="FeedbackStore.PositionBiasOf"/>).
/// </summary>
public sealed class PairwiseJudge : ChatJudge
{
    /// <summary>Version of the scoring rule; part of the fingerprint.</summary>
    public const int Version = 1;

    /// <summary>The principle used when none is given.</summary>
    public const string DefaultPrinciple = "The better response is more helpful, more honest and less harmful.";

    readonly int _commitEvery;
    readonly object _biasGate = new();
    (int Pairs, int Flipped, int First, int Second) _bias;
    long _cacheHits;

    /// <param name="client">The judge model.</param>
    /// <param name="principle">The principle to compare under; null for <see cref="DefaultPrinciple"/>.</param>
    /// <param name="principleId">Its id; names the judge "pairwise:ID" (default "pairwise:" + a hash of the text).</param>
    /// <param name="options">Settings; null for the defaults (temperature 0, 5 log-prob alternatives, 8 tokens, tie margin 0.1).</param>
    /// <param name="store">Where verdicts are looked up and stored; null to ask every time.</param>
    /// <param name="commitEvery">Questions asked and committed together: the most an interruption can lose.</param>
    public PairwiseJudge(IChatClient client, string? principle = null, string? principleId = null, JudgeOptions? options = null, FeedbackStore? store = null,
        int commitEvery = 256)
        : base(client, options, JudgeTemplate.Pairwise, 8, usesLogprobs: true, $"pairwise:{principleId ?? "default"}", "response_a", "response_b")
    {
        if (commitEvery < 1) throw new FeedbackException($"pairwise:{principleId}: commitEvery must be at least 1 (got {commitEvery})");
        Principle = string.IsNullOrWhiteSpace(principle) ? DefaultPrinciple : principle;
        PrincipleId = principleId ?? "p" + SignalFingerprint.Hash(Principle)[..8];
        Name = $"pairwise:{PrincipleId}";
        Fingerprint = SignalFingerprint.Of(Name, Version, Settings(string.Create(CultureInfo.InvariantCulture,
            $"principle={SignalFingerprint.Hash(Principle)}|tie_margin={Options.TieMargin:R}")));
        Store = store;
        _commitEvery = commitEvery;
    }

    /// <summary>The principle compared under.</summary>
    public string Principle { get; }

    /// <summary>Its id.</summary>
    public string PrincipleId { get; }

    /// <summary>The judge's name, "pairwise:ID".</summary>
    public string Name { get; }

    /// <summary>Name + settings + version: equal fingerprints give equal verdicts, so the store may answer for the judge.</summary>
    public string Fingerprint { get; }

    /// <summary>The store answering for the judge, if any.</summary>
    public FeedbackStore? Store { get; }

    /// <summary>Questions (one order of one pair) answered from the store or from an identical question earlier in the batch.</summary>
    public long CacheHits => Interlocked.Read(ref _cacheHits);

    /// <summary>How often this judge's verdict flipped with the order, over the pairs it has judged (cached ones included).</summary>
    public PositionBias Bias
    {
        get { lock (_biasGate) return new PositionBias(_bias.Pairs, _bias.Flipped, _bias.First, _bias.Second); }
    }

    /// <summary>The messages this judge sends with <paramref name="first"/> shown as (A) and <paramref name="second"/> as (B).</summary>
    public IReadOnlyList<ChatMessage> Messages(PromptRecord prompt, string first, string second) =>
        Template.Render(new JudgeInputs(prompt, null, Principle, first, second));

    /// <summary>Judges one pair in both orders.</summary>
    public async Task<PairwiseJudgement> JudgeAsync(PromptRecord prompt, string a, string b, CancellationToken cancellationToken = default) =>
        (await JudgeBatchAsync([new PairItem(prompt, a, b)], 1, cancellationToken).ConfigureAwait(false))[0];

    /// <summary>
    /// Judges every pair in both orders: each question is looked up in the store, the misses (each distinct question
    /// once) asked at most <paramref name="maxConcurrency"/> at a time and stored in chunks, one transaction each.
    /// Judgements in the pairs' order.
    /// </summary>
    public async Task<PairwiseJudgement[]> JudgeBatchAsync(IReadOnlyList<PairItem> pairs, int maxConcurrency = 1, CancellationToken cancellationToken = default)
    {
        if (maxConcurrency < 1) throw new FeedbackException($"{Name}: max concurrency must be at least 1 (got {maxConcurrency})");
        var questions = pairs.SelectMany(p => new[] { (p.Prompt, First: p.A, Second: p.B), (p.Prompt, First: p.B, Second: p.A) })
            .Select(q => (Key: VerdictKey.Of(Fingerprint, q.Prompt, q.First, q.Second), q.Prompt, q.First, q.Second)).ToArray();
        var answers = new Dictionary<string, JudgeVerdict>();
        if (Store is not null)
            foreach (var (key, stored) in Store.LookupVerdicts(questions.Select(q => q.Key))) answers[key] = stored.Verdict;
        var misses = new List<(string Key, PromptRecord Prompt, string First, string Second)>();
        var asked = new HashSet<string>();
        foreach (var q in questions)
        {
            if (answers.ContainsKey(q.Key) || !asked.Add(q.Key)) { Interlocked.Increment(ref _cacheHits); continue; }
            misses.Add(q);
        }
        foreach (var chunk in misses.Chunk(_commitEvery))
        {
            var verdicts = new JudgeVerdict[chunk.Length];
            await Parallel.ForEachAsync(Enumerable.Range(0, chunk.Length), new ParallelOptions { MaxDegreeOfParallelism = maxConcurrency, CancellationToken = cancellationToken },
                async (i, ct) => verdicts[i] = await AskOrderAsync(chunk[i].Prompt, chunk[i].First, chunk[i].Second, ct).ConfigureAwait(false)).ConfigureAwait(false);
            Store?.PutVerdicts(chunk.Select((q, i) => StoredVerdict.For(Fingerprint, Name, q.Prompt, q.First, q.Second, verdicts[i])));
            for (int i = 0; i < chunk.Length; i++) answers[chunk[i].Key] = verdicts[i];
        }
        var judgements = new PairwiseJudgement[pairs.Count];
        for (int i = 0; i < pairs.Count; i++)
        {
            var (aFirst, bFirst) = (answers[questions[2 * i].Key], answers[questions[2 * i + 1].Key]);
            judgements[i] = new PairwiseJudgement(pairs[i].Prompt, pairs[i].A, pairs[i].B, Combine(aFirst, bFirst), aFirst, bFirst);
            Count(judgements[i]);
        }
        return judgements;
    }

    /// <summary>One question: the verdict with <paramref name="first"/> shown as (A); P(A) soft from log-probs, else 1 / 0 / 0.5.</summary>
    async Task<JudgeVerdict> AskOrderAsync(PromptRecord prompt, string first, string second, CancellationToken cancellationToken)
    {
        var reply = await AskAsync(Messages(prompt, first, second), cancellationToken).ConfigureAwait(false);
        var provenance = Provenance(Name, Fingerprint, PrincipleId, reply.ElapsedMs);
        string answer = OneLine(reply.Text);
        if (VerdictParser.Preference(reply.Text) is not { } verdict)
        {
            CountUnparsable();
            return new JudgeVerdict(PairwisePreference.Unparsable, null, $"unparsable: {answer}", provenance);
        }
        double p = verdict.Value switch
        {
            PairwisePreference.Tie => 0.5,
            _ => VerdictProbability.AOverB(reply.Logprobs) ?? (verdict.Value == PairwisePreference.A ? 1 : 0),
        };
        return new JudgeVerdict(verdict.Value, p, answer, provenance);
    }

    /// <summary>
    /// The order-averaged verdict: P(A better) = mean of p(A first) and 1 − p(B first) over the readable orders; a tie
    /// within the margin of 0.5; unparsable when neither order was readable.
    /// </summary>
    public JudgeVerdict Combine(JudgeVerdict aFirst, JudgeVerdict bFirst)
    {
        var probabilities = new List<double>();
        if (aFirst.Preferred != PairwisePreference.Unparsable && aFirst.ProbabilityA is { } p1) probabilities.Add(p1);
        if (bFirst.Preferred != PairwisePreference.Unparsable && bFirst.ProbabilityA is { } p2) probabilities.Add(1 - p2);
        var provenance = new Provenance(Name, SignalKind.Judge, PrincipleId: PrincipleId, Model: ModelId, PromptTemplate: Template.Id, Seed: Options.Seed,
            Inputs: [aFirst.Provenance, bFirst.Provenance], Fingerprint: Fingerprint, TemplateHash: Template.Hash, CreatedAt: DateTimeOffset.UtcNow,
            ElapsedMs: (aFirst.Provenance.ElapsedMs ?? 0) + (bFirst.Provenance.ElapsedMs ?? 0));
        string orders = $"A first: {Describe(aFirst, false)}; B first: {Describe(bFirst, true)}";
        if (probabilities.Count == 0) return new JudgeVerdict(PairwisePreference.Unparsable, null, $"both orders unparsable ({orders})", provenance);
        double pA = probabilities.Average();
        var preferred = Math.Abs(pA - 0.5) <= Options.TieMargin ? PairwisePreference.Tie : pA > 0.5 ? PairwisePreference.A : PairwisePreference.B;
        return new JudgeVerdict(preferred, pA, string.Create(CultureInfo.InvariantCulture,
            $"P(A better) = {pA:0.###} averaged over {probabilities.Count} order{(probabilities.Count == 1 ? "" : "s")} ({orders})"), provenance);
    }

    static string Describe(JudgeVerdict v, bool swapped) => v.Preferred == PairwisePreference.Unparsable ? "unparsable"
        : string.Create(CultureInfo.InvariantCulture, $"{(swapped ? PositionBias.Swap(v.Preferred) : v.Preferred).ToString().ToLowerInvariant()}, P(A) = {(swapped ? 1 - v.ProbabilityA : v.ProbabilityA):0.###}");

    void Count(PairwiseJudgement j)
    {
        if (j.AFirst.Preferred == PairwisePreference.Unparsable || j.BFirst.Preferred == PairwisePreference.Unparsable) return;
        lock (_biasGate)
        {
            _bias.Pairs++;
            if (j.Flipped) _bias.Flipped++;
            if (j.AFirst.Preferred == PairwisePreference.A && j.BFirst.Preferred == PairwisePreference.A) _bias.First++;
            if (j.AFirst.Preferred == PairwisePreference.B && j.BFirst.Preferred == PairwisePreference.B) _bias.Second++;
        }
    }
}
