using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace AlignSharp.Models.ChatTemplates;

/// <summary>
/// jinja2's built-in filters with their Python semantics, plus transformers' <c>tojson</c>
/// (<c>ensure_ascii=False</c>, key order kept, optional <c>indent</c>).
/// </summary>
internal static partial class TemplateFilters
{
    delegate object? Filter(object? value, CallArguments args);

    static readonly Dictionary<string, Filter> Filters = new()
    {
        ["abs"] = (v, _) => v switch { long l => (object)Math.Abs(l), double d => Math.Abs(d), bool b => b ? 1L : 0L, _ => throw NotA("number", v) },
        ["attr"] = (v, a) => Members.GetAttribute(v, PythonText.Str(a.Get(0, "name", ""))),
        ["capitalize"] = (v, _) => PythonStrings.Capitalize(PythonText.Str(v)),
        ["center"] = (v, a) => Center(PythonText.Str(v), (int)(long)a.Get(0, "width", 80L)!),
        ["count"] = (v, _) => PythonSemantics.Length(v),
        ["default"] = Default,
        ["d"] = Default,
        ["dictsort"] = DictSort,
        ["escape"] = (v, _) => Escape(PythonText.Str(v)),
        ["e"] = (v, _) => Escape(PythonText.Str(v)),
        ["forceescape"] = (v, _) => Escape(PythonText.Str(v)),
        ["first"] = (v, _) => PythonSemantics.Iterate(v) is { Count: > 0 } items ? items[0] : Undefined.Instance,
        ["float"] = (v, a) => ToFloat(v, a.Get(0, "default", 0.0)),
        ["format"] = (v, a) => a.Keywords.Count > 0 ? PythonStrings.Format(PythonText.Str(v), a) : PercentFormat.Format(PythonText.Str(v), new TemplateTuple(a.Positional)),
        ["indent"] = Indent,
        ["int"] = (v, a) => ToInt(v, a.Get(0, "default", 0L)),
        ["items"] = (v, _) => v switch
        {
            Undefined => new List<object?>(),
            OrderedDictionary<string, object?> d => d.Select(kv => (object?)new TemplateTuple([kv.Key, kv.Value])).ToList(),
            _ => throw NotA("mapping", v),
        },
        ["join"] = Join,
        ["last"] = (v, _) => PythonSemantics.Iterate(v) is { Count: > 0 } items ? items[^1] : Undefined.Instance,
        ["length"] = (v, _) => PythonSemantics.Length(v),
        ["list"] = (v, _) => new List<object?>(PythonSemantics.Iterate(v)),
        ["lower"] = (v, _) => PythonText.Str(v).ToLowerInvariant(),
        ["map"] = Map,
        ["max"] = (v, a) => MinMax(v, a, max: true),
        ["min"] = (v, a) => MinMax(v, a, max: false),
        ["reject"] = (v, a) => SelectItems(v, a, attribute: false, keep: false),
        ["rejectattr"] = (v, a) => SelectItems(v, a, attribute: true, keep: false),
        ["replace"] = (v, a) => Methods.Replace(PythonText.Str(v), PythonText.Str(a.Get(0, "old", "")), PythonText.Str(a.Get(1, "new", "")), a.Get(2, "count", null) is long c ? c : -1),
        ["reverse"] = (v, _) => v is string s ? string.Concat(PythonSemantics.CodePoints(s).Cast<string>().Reverse()) : Enumerable.Reverse(PythonSemantics.Iterate(v)).ToList(),
        ["round"] = Round,
        ["safe"] = (v, _) => v,
        ["select"] = (v, a) => SelectItems(v, a, attribute: false, keep: true),
        ["selectattr"] = (v, a) => SelectItems(v, a, attribute: true, keep: true),
        ["sort"] = Sort,
        ["string"] = (v, _) => PythonText.Str(v),
        ["striptags"] = (v, _) => StripTags(PythonText.Str(v)),
        ["sum"] = Sum,
        ["title"] = (v, _) => JinjaTitle(PythonText.Str(v)),
        ["tojson"] = ToJson,
        ["trim"] = (v, a) => PythonStrings.Strip(PythonText.Str(v), a.Get(0, "chars", null) as string, true, true),
        ["unique"] = Unique,
        ["upper"] = (v, _) => PythonText.Str(v).ToUpperInvariant(),
        ["wordcount"] = (v, _) => (long)WordRegex().Count(PythonText.Str(v)),
    };

    /// <summary>True when a filter of that name exists.</summary>
    public static bool Exists(string name) => Filters.ContainsKey(name);

    /// <summary>All filter names, for error messages.</summary>
    public static IEnumerable<string> Names => Filters.Keys.Order(StringComparer.Ordinal);

    /// <summary>Applies the filter <paramref name="name"/>.</summary>
    public static object? Apply(string name, object? value, CallArguments args) => Filters[name](value, args);

    static InvalidOperationException NotA(string what, object? v) => new($"expected a {what}, got {PythonSemantics.TypeName(v)}");

    static object? Default(object? v, CallArguments a)
    {
        bool boolean = PythonSemantics.Truthy(a.Get(1, "boolean", false));
        return v is Undefined || (boolean && !PythonSemantics.Truthy(v)) ? a.Get(0, "default_value", "") : v;
    }

    static object? Join(object? v, CallArguments a)
    {
        string separator = PythonText.Str(a.Get(0, "d", ""));
        var items = PythonSemantics.Iterate(v);
        if (a.Get(1, "attribute", null) is string attribute) items = items.Select(x => Path(x, attribute)).ToList();
        return string.Join(separator, items.Select(PythonText.Str));
    }

    static object? ToJson(object? v, CallArguments a)
    {
        // transformers: tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
        string? indent = a.Get(1, "indent", null) switch
        {
            null or Undefined => null,
            long n => n <= TemplateLimits.MaxChars ? new string(' ', (int)Math.Max(0, n)) : throw new InvalidOperationException($"tojson(indent={n}) is too wide"),
            string s => s,
            var x => throw NotA("indent (int or str)", x),
        };
        string? itemSeparator = null, keySeparator = null;
        if (a.Get(2, "separators", null) is List<object?> { Count: 2 } seps) { itemSeparator = PythonText.Str(seps[0]); keySeparator = PythonText.Str(seps[1]); }
        return TemplateJson.Dumps(v, indent, PythonSemantics.Truthy(a.Get(0, "ensure_ascii", false)), itemSeparator, keySeparator, PythonSemantics.Truthy(a.Get(3, "sort_keys", false)));
    }

    /// <summary>jinja2's indent: splitlines on the text plus a newline, so a trailing newline is dropped, as jinja2 does.</summary>
    static object? Indent(object? v, CallArguments a)
    {
        var width = a.Get(0, "width", 4L);
        if (width is long n) TemplateLimits.CheckChars(n, "indent(width)");
        string indention = width is string w ? w : new string(' ', (int)Math.Max(0, (long)width!));
        bool first = PythonSemantics.Truthy(a.Get(1, "first", false));
        bool blank = PythonSemantics.Truthy(a.Get(2, "blank", false));
        var lines = PythonStrings.SplitLines(PythonText.Str(v) + "\n");
        string result;
        if (blank) result = string.Join("\n" + indention, lines);
        else
        {
            result = lines.Count > 0 ? lines[0] : "";
            if (lines.Count > 1) result += "\n" + string.Join("\n", lines.Skip(1).Select(l => l.Length > 0 ? indention + l : l));
        }
        return first ? indention + result : result;
    }

    static object? ToInt(object? v, object? fallback)
    {
        switch (v)
        {
            case long l: return l;
            case bool b: return b ? 1L : 0L;
            case double d: return (long)Math.Truncate(d);
            case string s:
                s = s.Trim().Replace("_", "");
                if (long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed)) return parsed;
                if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) && double.IsFinite(real)) return (long)Math.Truncate(real);
                return fallback;
            default: return fallback;
        }
    }

    static object? ToFloat(object? v, object? fallback) => v switch
    {
        double d => d,
        long l => (double)l,
        bool b => b ? 1.0 : 0.0,
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => fallback,
    };

    static object? Round(object? v, CallArguments a)
    {
        int precision = (int)(long)a.Get(0, "precision", 0L)!;
        string method = PythonText.Str(a.Get(1, "method", "common"));
        double x = PythonSemantics.ToDouble(v), scale = Math.Pow(10, precision);
        return method switch
        {
            // jinja2's 'common' is Python's round(): halves go to the even neighbour.
            "common" => Math.Round(x, Math.Clamp(precision, 0, 15), MidpointRounding.ToEven),
            "ceil" => Math.Ceiling(x * scale) / scale,
            "floor" => Math.Floor(x * scale) / scale,
            _ => throw new InvalidOperationException("round method must be 'common', 'ceil' or 'floor'"),
        };
    }

    /// <summary>Looks up a dotted attribute path (<c>"function.name"</c>, <c>"0"</c>) the way jinja2's attribute filters do.</summary>
    static object? Path(object? item, string path)
    {
        foreach (var part in path.Split('.'))
            item = long.TryParse(part, out var index) ? Members.GetItem(item, index) : Members.GetItem(item, part);
        return item;
    }

    static object? Map(object? v, CallArguments a)
    {
        var items = PythonSemantics.Iterate(v);
        if (a.Keywords.TryGetValue("attribute", out var attribute))
        {
            var fallback = a.Keywords.TryGetValue("default", out var d) ? d : Undefined.Instance;
            return items.Select(x => Path(x, PythonText.Str(attribute)) is Undefined ? fallback : Path(x, PythonText.Str(attribute))).ToList();
        }
        if (a.Positional.Count == 0) throw new InvalidOperationException("map needs a filter name or attribute=...");
        string filter = PythonText.Str(a.Positional[0]);
        if (!Exists(filter)) throw new InvalidOperationException($"unknown filter '{filter}' in map");
        var rest = new CallArguments(a.Positional.Skip(1).ToList(), a.Keywords);
        return items.Select(x => Apply(filter, x, rest)).ToList();
    }

    static object? SelectItems(object? v, CallArguments a, bool attribute, bool keep)
    {
        int next = 0;
        string? path = attribute ? PythonText.Str(a.Positional.ElementAtOrDefault(next++)) : null;
        string? test = next < a.Positional.Count ? PythonText.Str(a.Positional[next++]) : null;
        var testArgs = new CallArguments(a.Positional.Skip(next).ToList(), a.Keywords);
        var result = new List<object?>();
        foreach (var item in PythonSemantics.Iterate(v))
        {
            var subject = path is null ? item : Path(item, path);
            bool pass = test is null ? PythonSemantics.Truthy(subject) : TemplateTestFunctions.Run(test, subject, testArgs);
            if (pass == keep) result.Add(item);
        }
        return result;
    }

    static object? SortKey(object? x, string? attribute, bool caseSensitive)
    {
        if (attribute is not null) x = Path(x, attribute);
        return !caseSensitive && x is string s ? s.ToLowerInvariant() : x;
    }

    static object? Sort(object? v, CallArguments a)
    {
        bool reverse = PythonSemantics.Truthy(a.Get(0, "reverse", false));
        bool caseSensitive = PythonSemantics.Truthy(a.Get(1, "case_sensitive", false));
        string? attribute = a.Get(2, "attribute", null) is { } at and not Undefined ? PythonText.Str(at) : null;
        var comparer = Comparer<object?>.Create(PythonSemantics.Compare);
        var items = PythonSemantics.Iterate(v);
        // Python's sort is stable, and reverse=True keeps equal items in their original order.
        return reverse
            ? items.OrderByDescending(x => SortKey(x, attribute, caseSensitive), comparer).ToList()
            : items.OrderBy(x => SortKey(x, attribute, caseSensitive), comparer).ToList();
    }

    static object? DictSort(object? v, CallArguments a)
    {
        if (v is not OrderedDictionary<string, object?> d) throw NotA("mapping", v);
        bool caseSensitive = PythonSemantics.Truthy(a.Get(0, "case_sensitive", false));
        string by = PythonText.Str(a.Get(1, "by", "key"));
        bool reverse = PythonSemantics.Truthy(a.Get(2, "reverse", false));
        int index = by == "key" ? 0 : by == "value" ? 1 : throw new InvalidOperationException("dictsort: by must be 'key' or 'value'");
        var comparer = Comparer<object?>.Create(PythonSemantics.Compare);
        var pairs = d.Select(kv => new TemplateTuple([kv.Key, kv.Value]));
        Func<TemplateTuple, object?> key = t => !caseSensitive && t[index] is string s ? s.ToLowerInvariant() : t[index];
        return (reverse ? pairs.OrderByDescending(key, comparer) : pairs.OrderBy(key, comparer)).Cast<object?>().ToList();
    }

    static object? Unique(object? v, CallArguments a)
    {
        bool caseSensitive = PythonSemantics.Truthy(a.Get(0, "case_sensitive", false));
        string? attribute = a.Get(1, "attribute", null) as string;
        var seen = new List<object?>();
        var result = new List<object?>();
        foreach (var item in PythonSemantics.Iterate(v))
        {
            var key = SortKey(item, attribute, caseSensitive);
            if (seen.Any(s => PythonSemantics.AreEqual(s, key))) continue;
            seen.Add(key);
            result.Add(item);
        }
        return result;
    }

    static object? MinMax(object? v, CallArguments a, bool max)
    {
        bool caseSensitive = PythonSemantics.Truthy(a.Get(0, "case_sensitive", false));
        string? attribute = a.Get(1, "attribute", null) as string;
        var items = PythonSemantics.Iterate(v);
        if (items.Count == 0) return Undefined.Instance;
        var best = items[0];
        foreach (var item in items.Skip(1))
        {
            int c = PythonSemantics.Compare(SortKey(item, attribute, caseSensitive), SortKey(best, attribute, caseSensitive));
            if (max ? c > 0 : c < 0) best = item;
        }
        return best;
    }

    static object? Sum(object? v, CallArguments a)
    {
        string? attribute = a.Get(0, "attribute", null) as string;
        object? total = a.Get(1, "start", 0L);
        foreach (var item in PythonSemantics.Iterate(v)) total = Operators.Binary("+", total, attribute is null ? item : Path(item, attribute));
        return total;
    }

    /// <summary>jinja2's title: words split at whitespace, '-', and opening brackets; first letter upper, rest lower.</summary>
    static string JinjaTitle(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool wordStart = true;
        foreach (char c in s)
        {
            if (char.IsWhiteSpace(c) || c is '-' or '(' or '{' or '[' or '<') { sb.Append(c); wordStart = true; continue; }
            sb.Append(wordStart ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
            wordStart = false;
        }
        return sb.ToString();
    }

    /// <summary>markupsafe's escape: <c>&amp; &lt; &gt; &#34; &#39;</c>.</summary>
    static string Escape(string s) =>
        s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&#34;").Replace("'", "&#39;");

    static string StripTags(string s)
    {
        s = CommentRegex().Replace(s, "");
        s = TagRegex().Replace(s, "");
        s = string.Join(" ", PythonStrings.Split(s, null, -1).Select(PythonText.Str));
        return System.Net.WebUtility.HtmlDecode(s);
    }

    static string Center(string s, int width)
    {
        if (s.Length >= width) return s;
        TemplateLimits.CheckChars(width, "center(width)");
        int total = width - s.Length, left = total / 2 + (total & width & 1);
        return new string(' ', left) + s + new string(' ', total - left);
    }

    [GeneratedRegex(@"\w+")] private static partial Regex WordRegex();
    [GeneratedRegex(@"<!--.*?-->", RegexOptions.Singleline)] private static partial Regex CommentRegex();
    [GeneratedRegex(@"<[^>]*>")] private static partial Regex TagRegex();
}
