namespace AlignSharp.Training.Online;

/// <summary>
/// The reward functions a recipe names (<see cref="OnlineRewardOptions"/>: <c>reward_funcs</c>, <c>reward_weights</c>,
/// <c>reward_concurrency</c>), resolved into signal sources; disposing it disposes the sources it made (a reward model's
/// weights). <c>rm:FOLDER</c> is read here; other kinds come from the resolver the caller passes.
/// </summary>
public sealed class OnlineRewards : IDisposable
{
    private readonly IReadOnlyList<IDisposable> _owned;

    private OnlineRewards(RewardFunctions functions, IReadOnlyList<IDisposable> owned)
    {
        Functions = functions;
        _owned = owned;
    }

    /// <summary>The functions, weighted, in the recipe's order.</summary>
    public RewardFunctions Functions { get; }

    /// <summary>Every spec kind <paramref name="resolver"/> and Training read, in help order.</summary>
    public static IReadOnlyList<RewardSpecKind> Kinds(IRewardSourceResolver? resolver) =>
        [.. RewardModelSpecs.Instance.Kinds, .. resolver?.Kinds ?? []];

    /// <summary>"rm:FOLDER, world:CHECK, ...", for messages.</summary>
    public static string KindList(IRewardSourceResolver? resolver) => string.Join(", ", Kinds(resolver).Select(k => k.Syntax));

    /// <summary>
    /// Checks the options before anything loads (at least one spec, each of a known kind; one weight per spec), then
    /// resolves each spec. Sources made before a failure are disposed.
    /// </summary>
    /// <exception cref="TrainingException">No spec, an unknown kind, a bad spec, or a weight count that differs from the spec count.</exception>
    public static OnlineRewards Resolve(OnlineRewardOptions options, IRewardSourceResolver? resolver)
    {
        ArgumentNullException.ThrowIfNull(options);
        var specs = options.RewardFuncs;
        if (specs.Length == 0)
            throw new TrainingException($"reward_funcs: give at least one reward source, e.g. reward_funcs: [exact_answer] (kinds: {KindList(resolver)})");
        if (options.RewardWeights is { } weights && weights.Length != specs.Length)
            throw new TrainingException($"reward_weights: {weights.Length} weight{(weights.Length == 1 ? "" : "s")} for {specs.Length} reward_funcs ({string.Join(", ", specs)}); give one weight per function, or leave reward_weights out (all 1)");
        if (options.RewardConcurrency < 1)
            throw new TrainingException($"reward_concurrency: must be at least 1 (got {options.RewardConcurrency})");
        var resolvers = resolver is null ? new IRewardSourceResolver[] { RewardModelSpecs.Instance } : [RewardModelSpecs.Instance, resolver];
        var targets = specs.Select((spec, i) =>
        {
            string where = $"reward_funcs[{i}] '{spec}'";
            string kind = RewardSpec.KindOf(spec);
            return (Spec: spec.Trim(), Where: where, Resolver: resolvers.FirstOrDefault(r => r.Kinds.Any(k => k.Name == kind))
                ?? throw new TrainingException($"{where}: unknown reward source kind '{kind}'; kinds: {KindList(resolver)}"));
        }).ToList();

        var owned = new List<IDisposable>();
        try
        {
            var functions = new List<RewardFunction>();
            for (int i = 0; i < targets.Count; i++)
            {
                var source = targets[i].Resolver.Resolve(targets[i].Spec, targets[i].Where);
                if (source is IDisposable disposable) owned.Add(disposable);
                functions.Add(new RewardFunction(source, options.RewardWeights?[i] ?? 1f));
            }
            return new OnlineRewards(new RewardFunctions(functions, options.RewardConcurrency), owned);
        }
        catch
        {
            foreach (var d in owned) d.Dispose();
            throw;
        }
    }

    /// <summary>Disposes the sources made here.</summary>
    public void Dispose()
    {
        foreach (var d in _owned) d.Dispose();
    }
}
