namespace AlignSharp.Models.ChatTemplates;

/// <summary>
/// A variable scope. Like jinja2, a for-loop body and a macro call get their own scope (assignments inside do not leak
/// out), while if-blocks share their parent's. Mutating a <c>namespace()</c> object is how templates carry state out.
/// </summary>
internal sealed class Scope(Scope? parent)
{
    readonly Dictionary<string, object?> _variables = new(StringComparer.Ordinal);

    /// <summary>Looks a name up through the enclosing scopes; <see cref="Undefined.Instance"/> when absent.</summary>
    public object? Lookup(string name)
    {
        for (var scope = this; scope is not null; scope = scope.Parent)
            if (scope._variables.TryGetValue(name, out var value)) return value;
        return Undefined.Instance;
    }

    /// <summary>Binds a name in this scope.</summary>
    public void Set(string name, object? value) => _variables[name] = value;

    /// <summary>The enclosing scope, null for the global one.</summary>
    public Scope? Parent { get; } = parent;
}
