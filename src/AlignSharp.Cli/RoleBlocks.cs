using AlignSharp.Feedback;
using AlignSharp.Feedback.Providers;

namespace AlignSharp.Cli;

/// <summary>
/// A recipe's role blocks (<c>judge: {endpoint: ..., model: ...}</c>, which the recipe reader flattens to
/// <c>judge.endpoint</c>, and <c>--set judge.model=...</c>), taken out of its flat keys before the keys are bound, so
/// only dotted keys of the roles asked for leave (any other dotted key stays for the unknown-key check).
/// </summary>
internal static class RoleBlocks
{
    /// <summary>Removes the keys of <paramref name="roles"/> from every layer (later layers win) and reads them as role blocks.</summary>
    /// <param name="source">Names the recipe in errors.</param>
    /// <exception cref="UsageException">A bad block, named with the file, the role and the key.</exception>
    public static ChatRoles Take(string source, IReadOnlyList<ProviderRole> roles, params Dictionary<string, (string Value, string Source)>[] layers)
    {
        var roleKeys = new Dictionary<string, object?>();
        foreach (var layer in layers)
            foreach (var key in layer.Keys.Where(k => roles.Any(r => k.StartsWith(RoleNames.Of(r) + ".", StringComparison.Ordinal))).ToList())
            {
                roleKeys[key] = layer[key].Value == "null" ? null : layer[key].Value;
                layer.Remove(key);
            }
        try { return ChatRoles.Read(roleKeys, source); }
        catch (FeedbackException e) { throw new UsageException(e.Message); }
    }
}
