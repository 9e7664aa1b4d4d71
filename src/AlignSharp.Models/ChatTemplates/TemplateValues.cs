namespace AlignSharp.Models.ChatTemplates;

// The value model of the interpreter. Python types map onto plain .NET values so that conversions stay trivial:
//   None -> null, bool -> bool, int -> long, float -> double, str -> string,
//   list -> List<object?>, tuple -> TemplateTuple, dict -> OrderedDictionary<string, object?> (insertion order kept,
//   so tojson writes keys in the order the caller gave them), jinja2 Undefined -> Undefined.Instance,
//   namespace() -> TemplateNamespace, callables (globals, macros, bound methods) -> TemplateFunction.

/// <summary>jinja2's default <c>Undefined</c>: prints as empty, is falsy, iterates as empty.</summary>
internal sealed class Undefined
{
    /// <summary>The single undefined value.</summary>
    public static readonly Undefined Instance = new();
    Undefined() { }
    public override string ToString() => "";
}

/// <summary>An immutable Python tuple (prints with parentheses, compares like a list).</summary>
internal sealed class TemplateTuple(IReadOnlyList<object?> items) : List<object?>(items)
{
}

/// <summary>The mutable attribute bag returned by <c>namespace(...)</c>; <c>set ns.x = ...</c> writes into it.</summary>
internal sealed class TemplateNamespace
{
    /// <summary>Attributes in assignment order.</summary>
    public OrderedDictionary<string, object?> Attributes { get; } = new();
}

/// <summary>Positional and keyword arguments of one call.</summary>
internal sealed class CallArguments(List<object?> positional, OrderedDictionary<string, object?> keywords)
{
    /// <summary>Arguments passed by position.</summary>
    public List<object?> Positional { get; } = positional;

    /// <summary>Arguments passed by name, in call order.</summary>
    public OrderedDictionary<string, object?> Keywords { get; } = keywords;

    /// <summary>An empty argument list.</summary>
    public static CallArguments Empty => new([], new());

    /// <summary>Argument <paramref name="index"/> by position, else by <paramref name="name"/>, else <paramref name="fallback"/>.</summary>
    public object? Get(int index, string name, object? fallback)
    {
        if (index >= 0 && index < Positional.Count) return Positional[index];
        return Keywords.TryGetValue(name, out var value) ? value : fallback;
    }
}

/// <summary>A callable value: a global function, a macro, or a method bound to its receiver.</summary>
internal sealed class TemplateFunction(string name, Func<CallArguments, object?> body)
{
    /// <summary>Name used in error messages.</summary>
    public string Name { get; } = name;

    /// <summary>Invokes the function.</summary>
    public object? Invoke(CallArguments args) => body(args);
}
