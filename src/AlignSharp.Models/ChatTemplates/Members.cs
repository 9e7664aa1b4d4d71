namespace AlignSharp.Models.ChatTemplates;

/// <summary>
/// Attribute access (<c>x.name</c>), item access (<c>x[key]</c>) and slicing. As in jinja2, <c>x.name</c> prefers a
/// method (so <c>message.items</c> is dict.items) and falls back to the item; <c>x['name']</c> prefers the item.
/// Missing members are undefined, never errors, so <c>message.tool_calls is defined</c> works.
/// </summary>
internal static class Members
{
    /// <summary><c>target.name</c></summary>
    public static object? GetAttribute(object? target, string name)
    {
        switch (target)
        {
            case TemplateNamespace ns:
                return ns.Attributes.TryGetValue(name, out var v) ? v : Undefined.Instance;
            case OrderedDictionary<string, object?> dict:
                return (object?)Methods.Bind(target, name) ?? (dict.TryGetValue(name, out var item) ? item : Undefined.Instance);
            default:
                return (object?)Methods.Bind(target, name) ?? Undefined.Instance;
        }
    }

    /// <summary><c>target[key]</c></summary>
    public static object? GetItem(object? target, object? key)
    {
        switch (target)
        {
            case OrderedDictionary<string, object?> dict when key is string k:
                return dict.TryGetValue(k, out var v) ? v : (object?)Methods.Bind(target, k) ?? Undefined.Instance;
            case TemplateNamespace ns when key is string k:
                return ns.Attributes.TryGetValue(k, out var nv) ? nv : Undefined.Instance;
            case List<object?> list when key is long or bool:
            {
                long i = key is bool b ? (b ? 1 : 0) : (long)key;
                if (i < 0) i += list.Count;
                return i >= 0 && i < list.Count ? list[(int)i] : Undefined.Instance;
            }
            case string s when key is long index:
            {
                var chars = PythonSemantics.CodePoints(s);
                if (index < 0) index += chars.Count;
                return index >= 0 && index < chars.Count ? chars[(int)index] : Undefined.Instance;
            }
            default:
                return key is string name ? (object?)Methods.Bind(target, name) ?? Undefined.Instance : Undefined.Instance;
        }
    }

    /// <summary>Python slicing <c>target[start:stop:step]</c> of a list, tuple or string.</summary>
    public static object? Slice(object? target, long? start, long? stop, long? step)
    {
        List<object?> items = target switch
        {
            List<object?> list => list,
            string s => PythonSemantics.CodePoints(s),
            Undefined => [],
            _ => throw new InvalidOperationException($"'{PythonSemantics.TypeName(target)}' object is not subscriptable"),
        };
        long n = items.Count;
        long st = step ?? 1;
        if (st == 0) throw new InvalidOperationException("slice step cannot be zero");
        long lo, hi;
        if (st > 0)
        {
            lo = start is null ? 0 : Clamp(start.Value < 0 ? start.Value + n : start.Value, 0, n);
            hi = stop is null ? n : Clamp(stop.Value < 0 ? stop.Value + n : stop.Value, 0, n);
        }
        else
        {
            lo = start is null ? n - 1 : Clamp(start.Value < 0 ? start.Value + n : start.Value, -1, n - 1);
            hi = stop is null ? -1 : Clamp(stop.Value < 0 ? stop.Value + n : stop.Value, -1, n - 1);
        }
        var result = new List<object?>();
        for (long i = lo; st > 0 ? i < hi : i > hi; i += st) result.Add(items[(int)i]);
        return target switch
        {
            string => string.Concat(result.Cast<string>()),
            TemplateTuple => new TemplateTuple(result),
            _ => result,
        };
    }

    static long Clamp(long v, long lo, long hi) => Math.Max(lo, Math.Min(hi, v));
}
