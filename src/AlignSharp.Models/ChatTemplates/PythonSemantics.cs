namespace AlignSharp.Models.ChatTemplates;

/// <summary>Python's truthiness, equality, ordering and iteration over template values.</summary>
internal static class PythonSemantics
{
    /// <summary>Python <c>bool(value)</c>: empty strings, lists, dicts, zero, None and Undefined are false.</summary>
    public static bool Truthy(object? value) => value switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> list => list.Count > 0,
        OrderedDictionary<string, object?> dict => dict.Count > 0,
        _ => true,
    };

    /// <summary>Python type name, for error messages.</summary>
    public static string TypeName(object? value) => value switch
    {
        null => "NoneType",
        Undefined => "Undefined",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        TemplateTuple => "tuple",
        List<object?> => "list",
        OrderedDictionary<string, object?> => "dict",
        TemplateNamespace => "Namespace",
        TemplateFunction => "function",
        _ => value.GetType().Name,
    };

    /// <summary>True for int, float and bool (Python's bool is an int).</summary>
    public static bool IsNumber(object? value) => value is long or double or bool;

    /// <summary>Numeric value of an int, float or bool.</summary>
    public static double ToDouble(object? value) => value switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw new InvalidOperationException($"expected a number, got {TypeName(value)}"),
    };

    /// <summary>Python <c>==</c>: 1 == 1.0 == True, lists and dicts compare element-wise, Undefined equals only Undefined.</summary>
    public static bool AreEqual(object? a, object? b)
    {
        if (a is Undefined || b is Undefined) return a is Undefined && b is Undefined;
        if (a is null || b is null) return a is null && b is null;
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is long la && b is long lb) return la == lb;
            return ToDouble(a) == ToDouble(b);
        }
        if (a is string sa && b is string sb) return sa == sb;
        if (a is List<object?> xa && b is List<object?> xb)
        {
            if ((a is TemplateTuple) != (b is TemplateTuple) || xa.Count != xb.Count) return false;
            for (int i = 0; i < xa.Count; i++) if (!AreEqual(xa[i], xb[i])) return false;
            return true;
        }
        if (a is OrderedDictionary<string, object?> da && b is OrderedDictionary<string, object?> db)
        {
            if (da.Count != db.Count) return false;
            foreach (var (k, v) in da) if (!db.TryGetValue(k, out var w) || !AreEqual(v, w)) return false;
            return true;
        }
        return ReferenceEquals(a, b);
    }

    /// <summary>Python ordering (<c>&lt;</c>): numbers with numbers, strings by code point, lists lexicographically.</summary>
    public static int Compare(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is long la && b is long lb) return la.CompareTo(lb);
            return ToDouble(a).CompareTo(ToDouble(b));
        }
        if (a is string sa && b is string sb) return string.CompareOrdinal(sa, sb) switch { < 0 => -1, > 0 => 1, _ => 0 };
        if (a is List<object?> xa && b is List<object?> xb)
        {
            for (int i = 0; i < Math.Min(xa.Count, xb.Count); i++)
            {
                if (AreEqual(xa[i], xb[i])) continue;
                return Compare(xa[i], xb[i]);
            }
            return xa.Count.CompareTo(xb.Count);
        }
        throw new InvalidOperationException($"'<' not supported between instances of '{TypeName(a)}' and '{TypeName(b)}'");
    }

    /// <summary>Python <c>len(value)</c>; Undefined has length 0 as in jinja2.</summary>
    public static long Length(object? value) => value switch
    {
        string s => CodePointCount(s),
        List<object?> list => list.Count,
        OrderedDictionary<string, object?> dict => dict.Count,
        Undefined => 0,
        _ => throw new InvalidOperationException($"object of type '{TypeName(value)}' has no len()"),
    };

    /// <summary>Number of Unicode code points (Python counts code points, .NET strings count UTF-16 units).</summary>
    public static int CodePointCount(string s)
    {
        int n = 0;
        for (int i = 0; i < s.Length; i++) { if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++; n++; }
        return n;
    }

    /// <summary>Splits a string into code points (each a string), as Python iterates it.</summary>
    public static List<object?> CodePoints(string s)
    {
        var result = new List<object?>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { result.Add(s.Substring(i, 2)); i++; }
            else result.Add(s[i].ToString());
        }
        return result;
    }

    /// <summary>
    /// Python <c>iter(value)</c> materialised: lists as they are, strings as code points, dicts as their keys,
    /// Undefined as empty (jinja2's Undefined is iterable).
    /// </summary>
    public static List<object?> Iterate(object? value) => value switch
    {
        List<object?> list => list,
        string s => CodePoints(s),
        OrderedDictionary<string, object?> dict => dict.Keys.Cast<object?>().ToList(),
        Undefined => [],
        _ => throw new InvalidOperationException($"'{TypeName(value)}' object is not iterable"),
    };

    /// <summary>Python <c>x in container</c>.</summary>
    public static bool Contains(object? container, object? item) => container switch
    {
        string s when item is string sub => s.Contains(sub, StringComparison.Ordinal),
        string => throw new InvalidOperationException($"'in <string>' requires string as left operand, not {TypeName(item)}"),
        List<object?> list => list.Any(x => AreEqual(x, item)),
        OrderedDictionary<string, object?> dict => item is string key && dict.ContainsKey(key),
        Undefined => false,
        _ => throw new InvalidOperationException($"argument of type '{TypeName(container)}' is not iterable"),
    };
}
