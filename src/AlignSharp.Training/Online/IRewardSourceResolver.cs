using AlignSharp.Feedback;

namespace AlignSharp.Training.Online;

/// <summary>One kind of reward spec a resolver reads: its syntax (<c>rm:FOLDER</c>, <c>exact_answer</c>) and what it names.</summary>
/// <param name="Syntax">The kind, then <c>:ARGUMENT</c> in capitals when it takes one.</param>
/// <param name="Description">One line for help texts.</param>
public sealed record RewardSpecKind(string Syntax, string Description)
{
    /// <summary>The kind's name: <see cref="Syntax"/> up to its first ':' ("rm" of "rm:FOLDER").</summary>
    public string Name => RewardSpec.KindOf(Syntax);
}

/// <summary>
/// Turns the entries of a recipe's <c>reward_funcs</c> (TRL's key; here signal-source specs such as
/// <c>rm:runs/rm</c> or <c>world:correct_answer</c>) into signal sources. Training reads reward model folders itself
/// (<see cref="RewardModelSpecs"/>); a layer above passes a resolver for the kinds it knows (checks of an environment,
/// constitutions, judges) to <see cref="OnlineRewards.Resolve"/>.
/// </summary>
public interface IRewardSourceResolver
{
    /// <summary>The spec kinds this resolver reads.</summary>
    IReadOnlyList<RewardSpecKind> Kinds { get; }

    /// <summary>
    /// The source <paramref name="spec"/> names; its kind is one of <see cref="Kinds"/>. The caller owns the source
    /// (and disposes it when it is <see cref="IDisposable"/>).
    /// </summary>
    /// <param name="where">Names the entry in errors: <c>reward_funcs[1] 'world:typo'</c>.</param>
    /// <exception cref="TrainingException">The spec names nothing usable; the message starts with <paramref name="where"/> and gives the fix.</exception>
    ISignalSource Resolve(string spec, string where);
}

/// <summary>How reward specs are spelled: <c>KIND</c> or <c>KIND:ARGUMENT</c>.</summary>
public static class RewardSpec
{
    /// <summary>The kind of <paramref name="spec"/>: the text before its first ':', or the whole spec.</summary>
    public static string KindOf(string spec)
    {
        int colon = spec.IndexOf(':');
        return (colon < 0 ? spec : spec[..colon]).Trim();
    }

    /// <summary>What follows the kind (trimmed), or null when the spec has no ':'.</summary>
    public static string? ArgumentOf(string spec)
    {
        int colon = spec.IndexOf(':');
        return colon < 0 ? null : spec[(colon + 1)..].Trim();
    }
}
