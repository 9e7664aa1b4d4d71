using AlignSharp.Feedback;

namespace AlignSharp.Training.Online;

/// <summary>
/// The reward spec kind Training reads itself: <c>rm:FOLDER</c>, a reward model folder (<c>*ForSequenceClassification</c>,
/// as <c>alignsharp train rm</c> writes) scored by <see cref="RewardModelSource"/>, as TRL's <c>reward_funcs</c> takes a
/// reward model's name or path.
/// </summary>
public sealed class RewardModelSpecs : IRewardSourceResolver
{
    /// <summary>The one instance (the resolver holds no state).</summary>
    public static RewardModelSpecs Instance { get; } = new();

    private RewardModelSpecs() { }

    /// <summary>rm:FOLDER.</summary>
    public static RewardSpecKind Kind { get; } = new("rm:FOLDER", "a reward model folder (*ForSequenceClassification, e.g. from `alignsharp train rm`): its score of prompt + completion");

    public IReadOnlyList<RewardSpecKind> Kinds => [Kind];

    /// <exception cref="TrainingException">No folder given, or the folder is no reward model.</exception>
    public ISignalSource Resolve(string spec, string where)
    {
        if (RewardSpec.ArgumentOf(spec) is not { Length: > 0 } folder)
            throw new TrainingException($"{where}: give the reward model folder after rm: (rm:runs/rm)");
        try { return RewardModelSource.FromFolder(folder); }
        catch (TrainingException e) { throw new TrainingException($"{where}: {e.Message}"); }
    }
}
