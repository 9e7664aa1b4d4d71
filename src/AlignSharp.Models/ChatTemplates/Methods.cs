namespace AlignSharp.Models.ChatTemplates;

/// <summary>
/// Python methods callable from templates: <c>str</c> (strip, split, startswith, replace, format, ...),
/// <c>dict</c> (items, keys, values, get) and <c>list</c> (append, extend, pop, index, count).
/// </summary>
/// <remarks>
/// transformers renders in jinja2's ImmutableSandboxedEnvironment, which forbids list mutation; <c>append</c> and friends
/// are allowed here so templates written for other runtimes still render, at the cost of accepting a few templates
/// transformers rejects.
/// </remarks>
internal static class Methods
{
    /// <summary>The method <paramref name="name"/> bound to <paramref name="target"/>, or null when it has none.</summary>
    public static TemplateFunction? Bind(object? target, string name) => target switch
    {
        string s => StringMethod(s, name),
        OrderedDictionary<string, object?> d => DictMethod(d, name),
        List<object?> l => ListMethod(l, name),
        _ => null,
    };

    static TemplateFunction? Fn(string name, Func<CallArguments, object?> body) => new(name, body);

    static string? OptString(object? v) => v is null or Undefined ? null : v as string ?? throw new InvalidOperationException($"expected a string, got {PythonSemantics.TypeName(v)}");

    static TemplateFunction? StringMethod(string s, string name) => name switch
    {
        "strip" => Fn(name, a => PythonStrings.Strip(s, OptString(a.Get(0, "chars", null)), true, true)),
        "lstrip" => Fn(name, a => PythonStrings.Strip(s, OptString(a.Get(0, "chars", null)), true, false)),
        "rstrip" => Fn(name, a => PythonStrings.Strip(s, OptString(a.Get(0, "chars", null)), false, true)),
        "split" => Fn(name, a => PythonStrings.Split(s, OptString(a.Get(0, "sep", null)), a.Get(1, "maxsplit", -1L) is long m ? m : -1)),
        "splitlines" => Fn(name, _ => PythonStrings.SplitLines(s).Cast<object?>().ToList()),
        "startswith" => Fn(name, a => Affix(a.Get(0, "prefix", null), p => s.StartsWith(p, StringComparison.Ordinal))),
        "endswith" => Fn(name, a => Affix(a.Get(0, "suffix", null), p => s.EndsWith(p, StringComparison.Ordinal))),
        "upper" => Fn(name, _ => s.ToUpperInvariant()),
        "lower" => Fn(name, _ => s.ToLowerInvariant()),
        "title" => Fn(name, _ => PythonStrings.Title(s)),
        "capitalize" => Fn(name, _ => PythonStrings.Capitalize(s)),
        "replace" => Fn(name, a => Replace(s, (string)a.Get(0, "old", "")!, (string)a.Get(1, "new", "")!, a.Get(2, "count", -1L) is long c ? c : -1)),
        "format" => Fn(name, a => PythonStrings.Format(s, a)),
        "join" => Fn(name, a => string.Join(s, PythonSemantics.Iterate(a.Get(0, "iterable", null)).Select(PythonText.Str))),
        "find" => Fn(name, a => (long)s.IndexOf((string)a.Get(0, "sub", "")!, StringComparison.Ordinal)),
        "rfind" => Fn(name, a => (long)s.LastIndexOf((string)a.Get(0, "sub", "")!, StringComparison.Ordinal)),
        "count" => Fn(name, a => CountOccurrences(s, (string)a.Get(0, "sub", "")!)),
        "removeprefix" => Fn(name, a => a.Get(0, "prefix", "") is string p && s.StartsWith(p, StringComparison.Ordinal) ? s[p.Length..] : s),
        "removesuffix" => Fn(name, a => a.Get(0, "suffix", "") is string p && p.Length > 0 && s.EndsWith(p, StringComparison.Ordinal) ? s[..^p.Length] : s),
        "isdigit" => Fn(name, _ => s.Length > 0 && s.All(char.IsDigit)),
        "isalpha" => Fn(name, _ => s.Length > 0 && s.All(char.IsLetter)),
        "isalnum" => Fn(name, _ => s.Length > 0 && s.All(char.IsLetterOrDigit)),
        "isspace" => Fn(name, _ => s.Length > 0 && s.All(char.IsWhiteSpace)),
        "islower" => Fn(name, _ => s.Any(char.IsLetter) && s.ToLowerInvariant() == s),
        "isupper" => Fn(name, _ => s.Any(char.IsLetter) && s.ToUpperInvariant() == s),
        _ => null,
    };

    static bool Affix(object? pattern, Func<string, bool> test) => pattern switch
    {
        string p => test(p),
        List<object?> options => options.Any(o => o is string p && test(p)),
        _ => throw new InvalidOperationException($"startswith/endswith first arg must be str or a tuple of str, not {PythonSemantics.TypeName(pattern)}"),
    };

    /// <summary>Python <c>str.replace(old, new, count)</c>; an empty <paramref name="old"/> inserts between characters.</summary>
    public static string Replace(string s, string old, string replacement, long count)
    {
        if (count == 0) return s;
        if (old.Length == 0)
        {
            var parts = PythonSemantics.CodePoints(s).Cast<string>().ToList();
            var sb = new System.Text.StringBuilder();
            long done = 0;
            for (int i = 0; i <= parts.Count; i++)
            {
                if (count < 0 || done < count) { sb.Append(replacement); done++; }
                if (i < parts.Count) sb.Append(parts[i]);
            }
            return sb.ToString();
        }
        if (count < 0) return s.Replace(old, replacement, StringComparison.Ordinal);
        var result = new System.Text.StringBuilder();
        int pos = 0;
        for (long n = 0; n < count; n++)
        {
            int at = s.IndexOf(old, pos, StringComparison.Ordinal);
            if (at < 0) break;
            result.Append(s, pos, at - pos).Append(replacement);
            pos = at + old.Length;
        }
        return result.Append(s, pos, s.Length - pos).ToString();
    }

    static long CountOccurrences(string s, string sub)
    {
        if (sub.Length == 0) return PythonSemantics.CodePointCount(s) + 1;
        long n = 0;
        for (int at = s.IndexOf(sub, StringComparison.Ordinal); at >= 0; at = s.IndexOf(sub, at + sub.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    static TemplateFunction? DictMethod(OrderedDictionary<string, object?> d, string name) => name switch
    {
        "items" => Fn(name, _ => d.Select(kv => (object?)new TemplateTuple([kv.Key, kv.Value])).ToList()),
        "keys" => Fn(name, _ => d.Keys.Cast<object?>().ToList()),
        "values" => Fn(name, _ => d.Values.ToList()),
        "get" => Fn(name, a => a.Get(0, "key", null) is string k && d.TryGetValue(k, out var v) ? v : a.Get(1, "default", null)),
        "copy" => Fn(name, _ => new OrderedDictionary<string, object?>(d)),
        _ => null,
    };

    static TemplateFunction? ListMethod(List<object?> l, string name) => name switch
    {
        "append" => Fn(name, a => { l.Add(a.Get(0, "object", null)); return null; }),
        "extend" => Fn(name, a => { l.AddRange(PythonSemantics.Iterate(a.Get(0, "iterable", null))); return null; }),
        "insert" => Fn(name, a => { long i = (long)a.Get(0, "index", 0L)!; if (i < 0) i += l.Count; l.Insert((int)Math.Clamp(i, 0, l.Count), a.Get(1, "object", null)); return null; }),
        "pop" => Fn(name, a =>
        {
            long i = a.Get(0, "index", -1L) is long x ? x : -1;
            if (i < 0) i += l.Count;
            if (i < 0 || i >= l.Count) throw new InvalidOperationException("pop index out of range");
            var v = l[(int)i];
            l.RemoveAt((int)i);
            return v;
        }),
        "index" => Fn(name, a =>
        {
            int i = l.FindIndex(x => PythonSemantics.AreEqual(x, a.Get(0, "value", null)));
            return i >= 0 ? (long)i : throw new InvalidOperationException("value is not in list");
        }),
        "count" => Fn(name, a => (long)l.Count(x => PythonSemantics.AreEqual(x, a.Get(0, "value", null)))),
        "copy" => Fn(name, _ => new List<object?>(l)),
        _ => null,
    };
}
