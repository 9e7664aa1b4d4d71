namespace AlignSharp.Models.ChatTemplates;

/// <summary>jinja2's built-in tests, used by <c>x is name(args)</c> and by select/reject/selectattr/rejectattr.</summary>
internal static class TemplateTestFunctions
{
    static readonly Dictionary<string, Func<object?, CallArguments, bool>> Tests = new()
    {
        ["defined"] = (v, _) => v is not Undefined,
        ["undefined"] = (v, _) => v is Undefined,
        ["none"] = (v, _) => v is null,
        ["boolean"] = (v, _) => v is bool,
        ["true"] = (v, _) => v is true,
        ["false"] = (v, _) => v is false,
        ["integer"] = (v, _) => v is long,
        ["float"] = (v, _) => v is double,
        ["number"] = (v, _) => v is long or double or bool,
        ["string"] = (v, _) => v is string,
        ["mapping"] = (v, _) => v is OrderedDictionary<string, object?>,
        ["iterable"] = (v, _) => v is string or List<object?> or OrderedDictionary<string, object?> or Undefined,
        ["sequence"] = (v, _) => v is string or List<object?> or OrderedDictionary<string, object?>,
        ["callable"] = (v, _) => v is TemplateFunction,
        ["odd"] = (v, _) => AsLong(v) % 2 != 0,
        ["even"] = (v, _) => AsLong(v) % 2 == 0,
        ["divisibleby"] = (v, a) => AsLong(v) % AsLong(a.Get(0, "num", 1L)) == 0,
        ["lower"] = (v, _) => v is string s && s.ToLowerInvariant() == s,
        ["upper"] = (v, _) => v is string s && s.ToUpperInvariant() == s,
        ["escaped"] = (_, _) => false,
        ["sameas"] = (v, a) => SameAs(v, a.Get(0, "other", null)),
        ["in"] = (v, a) => PythonSemantics.Contains(a.Get(0, "seq", null), v),
        ["filter"] = (v, _) => v is string name && TemplateFilters.Exists(name),
        ["test"] = (v, _) => v is string name && Tests!.ContainsKey(name),
        ["eq"] = Comparison("=="), ["equalto"] = Comparison("=="), ["=="] = Comparison("=="),
        ["ne"] = Comparison("!="), ["!="] = Comparison("!="),
        ["lt"] = Comparison("<"), ["lessthan"] = Comparison("<"), ["<"] = Comparison("<"),
        ["le"] = Comparison("<="), ["<="] = Comparison("<="),
        ["gt"] = Comparison(">"), ["greaterthan"] = Comparison(">"), [">"] = Comparison(">"),
        ["ge"] = Comparison(">="), [">="] = Comparison(">="),
    };

    /// <summary>True when a test of that name exists.</summary>
    public static bool Exists(string name) => Tests.ContainsKey(name);

    /// <summary>Runs the test <paramref name="name"/> on <paramref name="value"/>.</summary>
    public static bool Run(string name, object? value, CallArguments args)
    {
        if (!Tests.TryGetValue(name, out var test))
            throw new InvalidOperationException($"unknown test '{name}' (supported: {string.Join(", ", Tests.Keys.Where(k => char.IsLetter(k[0])))})");
        return test(value, args);
    }

    static Func<object?, CallArguments, bool> Comparison(string op) => (v, a) => Operators.Compare(op, v, a.Get(0, "other", null));

    static bool SameAs(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (bool x, bool y) => x == y,
        _ => ReferenceEquals(a, b),
    };

    static long AsLong(object? v) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        double d when d == Math.Floor(d) => (long)d,
        _ => throw new InvalidOperationException($"expected an integer, got {PythonSemantics.TypeName(v)}"),
    };
}
