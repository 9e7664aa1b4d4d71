using AlignSharp.Feedback;
using AlignSharp.Feedback.Store;
using AlignSharp.Models.Transformers;
using AlignSharp.Training;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;
using AlignSharp.Training.Online;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Alignment.Pipelines;

/// <summary>How many optimizer steps an online round takes, and how many completions it samples in them.</summary>
/// <param name="MaxSteps">The round's max_steps.</param>
/// <param name="Completions">Completions sampled from the policy in the round.</param>
public sealed record OnlineRoundPlan(int MaxSteps, int Completions);

/// <summary>The online rounds' reward functions, and their sources through the feedback store (for the scoring counts).</summary>
public sealed record RoundRewards(RewardFunctions Functions, IReadOnlyList<CachingSignalSource> Stored)
{
    /// <summary>Scoring calls the sources made (labels found in the store cost none).</summary>
    public long ScoringCalls => Stored.Sum(s => s.InnerCalls);

    /// <summary>Labels found in the store instead of scored again.</summary>
    public long StoredLabelsReused => Stored.Sum(s => s.CacheHits);
}

/// <summary>
/// The demo loop's online rounds (grpo, ppo, rloo, online_dpo): one run of the method's trainer over the round's
/// prompts, sampling from the policy as it trains, rewarded by the same signal a dpo round ranks with.
/// <para>Equal sample budget: a dpo or kto round samples train_prompts × samples_per_prompt completions once and
/// trains on them; an online round samples that many completions too, spread over the run — grpo and rloo
/// num_generations per prompt, online_dpo two, ppo one — so a prompt is visited samples_per_prompt ÷ completions per
/// prompt times. The count is rounded up to whole generation batches (<see cref="DemoOptions.GenerationBatchSize"/>
/// completions; online_dpo: online_batch_size) and <see cref="OnlineRoundPlan.Completions"/> is the exact figure.
/// Scoring and training costs differ by method; the comparison's wall time shows them.</para>
/// </summary>
public static class OnlineRounds
{
    /// <summary>The round's step count and sampled completions for <paramref name="method"/> at the recipe's sample budget.</summary>
    public static OnlineRoundPlan Plan(DemoOptions o, string method)
    {
        long budget = (long)o.TrainPrompts * o.SamplesPerPrompt;
        if (method == "online_dpo")
        {
            // One generation per optimizer step: online_batch_size / 2 prompts, two completions each.
            int steps = (int)((budget + o.OnlineBatchSize - 1) / o.OnlineBatchSize);
            return new OnlineRoundPlan(steps, steps * o.OnlineBatchSize);
        }
        int generations = (int)((budget + o.GenerationBatchSize - 1) / o.GenerationBatchSize);
        // Each generation batch is trained on num_iterations (ppo: num_ppo_epochs) times in micro-batches of
        // online_batch_size, one step each.
        int stepsPerGeneration = (method == "ppo" ? o.NumPpoEpochs : o.NumIterations) * (o.GenerationBatchSize / o.OnlineBatchSize);
        return new OnlineRoundPlan(generations * stepsPerGeneration, generations * o.GenerationBatchSize);
    }

    /// <summary>Checks that every reward_funcs entry names a principle of the constitution.</summary>
    /// <exception cref="TrainingException">The first one that does not, with the principles there are.</exception>
    public static void CheckRewardFuncs(DemoOptions o, Constitution constitution)
    {
        foreach (var id in o.RewardFuncs) Principle(o, constitution, id);
    }

    private static Principle Principle(DemoOptions o, Constitution constitution, string id) =>
        constitution.Principles.FirstOrDefault(p => p.Id == id)
        ?? throw new TrainingException($"reward_funcs: {o.Constitution} has no principle '{id}' (it has {string.Join(", ", constitution.Principles.Select(p => p.Id))})");

    /// <summary>
    /// The reward functions: one per <see cref="DemoOptions.RewardFuncs"/> principle, scored within its applies_to by
    /// its check — or by its judge when <paramref name="judges"/> has one — each through the feedback store, weighted
    /// by reward_weights. A function that does not apply to a completion gives null, which the online trainers leave
    /// out of the reward (never 0).
    /// </summary>
    /// <param name="judges">The judge of each judged principle (signal: judge), or null.</param>
    /// <exception cref="TrainingException">A reward_funcs entry the constitution does not have.</exception>
    public static RoundRewards Rewards(DemoOptions o, Constitution constitution,
        IReadOnlyDictionary<string, ISignalSource>? judges, FeedbackStore store, int concurrency)
    {
        var stored = new List<CachingSignalSource>();
        var functions = new List<RewardFunction>();
        for (int i = 0; i < o.RewardFuncs.Count; i++)
        {
            string id = o.RewardFuncs[i];
            var principle = Principle(o, constitution, id);
            bool judged = judges is not null && judges.ContainsKey(id);
            var single = constitution with { Name = $"{constitution.Name}/{id}", Principles = [judged ? principle with { Scorer = PrincipleScorer.Judge } : principle] };
            var source = new CachingSignalSource(new ConstitutionSource(single, judged ? _ => judges![id] : null), store);
            stored.Add(source);
            functions.Add(new RewardFunction(source, o.RewardWeights?[i] ?? 1f));
        }
        return new RoundRewards(new RewardFunctions(functions, concurrency), stored);
    }

    /// <summary>
    /// The method's trainer over <paramref name="policy"/> (trained in full, in place; the caller keeps it), sampling
    /// <paramref name="prompts"/>. The reference of its KL term is the policy as the round starts (the previous
    /// round's model), as in a dpo round. ppo's critic is a value head on the policy (TRL's shared trunk), new each
    /// round (seeded), saved beside the round's model as value_head.safetensors.
    /// </summary>
    /// <param name="rewards">The reward functions (grpo, rloo, ppo).</param>
    /// <param name="signal">The signal a dpo round ranks with: online_dpo's pairs are ranked by it (one reward function).</param>
    /// <param name="concurrency">Scoring calls in flight (the signal's).</param>
    /// <returns>The trainer, and what it trains besides the policy (ppo's value head) for the caller to dispose; the trainer leaves the policy alone.</returns>
    public static (OnlineTrainer Trainer, IDisposable? Critic) Create(string method, DemoOptions o, TrainingArguments args, TransformerModel policy,
        IReadOnlyList<PromptRecord> prompts, ExampleTokenizer encoder, RoundRewards rewards, ISignalSource signal, int concurrency)
    {
        if (method == "ppo")
        {
            // One completion per prompt; num_mini_batches makes the rollout batch generation_batch_size completions.
            var withHead = PolicyAndValue.WithSharedHead(new FullCausalLm(policy), o.Seed);
            var ppo = new PpoTrainer(args, withHead, prompts, encoder, rewards.Functions, new PpoOptions
            {
                NumPpoEpochs = o.NumPpoEpochs, NumMiniBatches = o.GenerationBatchSize / o.OnlineBatchSize, KlCoef = o.PpoKlCoef, Cliprange = o.Epsilon,
                MaxCompletionLength = o.MaxNewTokens, Temperature = o.SampleTemperature, ValueModel = ValueModelKind.Shared,
            }) { OwnsModel = false };
            return (ppo, withHead.ValueHead);
        }
        var trainer = Policy(method, o, args, policy, prompts, encoder, rewards, signal, concurrency);
        trainer.OwnsModel = false;
        return (trainer, null);
    }

    private static OnlineTrainer Policy(string method, DemoOptions o, TrainingArguments args, TransformerModel policy, IReadOnlyList<PromptRecord> prompts,
        ExampleTokenizer encoder, RoundRewards rewards, ISignalSource signal, int concurrency) => method switch
    {
        "grpo" => new GrpoTrainer(args, new FullCausalLm(policy), prompts, encoder, rewards.Functions, new GrpoOptions
        {
            NumGenerations = o.NumGenerations, LossType = o.GrpoLossType, ScaleRewards = o.ScaleRewards, Epsilon = o.Epsilon, Beta = o.GrpoBeta,
            NumIterations = o.NumIterations, StepsPerGeneration = o.GenerationBatchSize / o.OnlineBatchSize,
            MaxCompletionLength = o.MaxNewTokens, MaxPromptLength = null, Temperature = o.SampleTemperature,
        }),
        "rloo" => new RlooTrainer(args, new FullCausalLm(policy), prompts, encoder, rewards.Functions, new RlooOptions
        {
            NumGenerations = o.NumGenerations, Beta = o.RlooBeta, Epsilon = o.Epsilon, NumIterations = o.NumIterations,
            StepsPerGeneration = o.GenerationBatchSize / o.OnlineBatchSize, MaxCompletionLength = o.MaxNewTokens, MaxPromptLength = null,
            Temperature = o.SampleTemperature,
        }),
        "online_dpo" => new OnlineDpoTrainer(args, new FullCausalLm(policy), prompts, encoder, new RewardFunctions([new RewardFunction(signal)], concurrency), new OnlineDpoOptions
        {
            Beta = o.OnlineDpoBeta, MaxNewTokens = o.MaxNewTokens, Temperature = o.SampleTemperature, TopK = 0,
            // The world's checks tie often (both samples refuse, or both are right): such a pair carries no preference,
            // and the dpo rounds build no pair from it either.
            TrainOnTies = false,
        }),
        _ => throw new ArgumentException($"'{method}' is not an online method", nameof(method)),
    };
}
