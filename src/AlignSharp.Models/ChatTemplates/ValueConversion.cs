using System.Collections;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AlignSharp.Models.ChatTemplates;

/// <summary>
/// Converts caller data (System.Text.Json elements and nodes, plain .NET values) into template values.
/// Object key order is kept, so <c>tojson</c> writes keys as the caller wrote them.
/// </summary>
internal static class ValueConversion
{
    /// <summary>Converts any supported .NET value; unknown types throw naming the type.</summary>
    public static object? FromObject(object? value) => value switch
    {
        null => null,
        Undefined or TemplateNamespace or TemplateFunction => value,
        string s => s,
        bool b => b,
        int i => (long)i,
        long l => l,
        short s16 => (long)s16,
        byte u8 => (long)u8,
        uint u32 => (long)u32,
        float f => (double)f,
        double d => d,
        decimal m => (double)m,
        JsonElement e => FromJson(e),
        JsonNode n => FromNode(n),
        OrderedDictionary<string, object?> d => d,
        IDictionary<string, object?> d => d.ToOrdered(kv => kv.Key, kv => FromObject(kv.Value)),
        IReadOnlyDictionary<string, object?> d => d.ToOrdered(kv => kv.Key, kv => FromObject(kv.Value)),
        IDictionary d => d.Cast<DictionaryEntry>().ToOrdered(kv => kv.Key.ToString()!, kv => FromObject(kv.Value)),
        List<object?> list => list,
        IEnumerable items => items.Cast<object?>().Select(FromObject).ToList(),
        _ => throw new ArgumentException($"chat template variables cannot hold a {value.GetType().Name}; pass JSON, strings, numbers, bools, dictionaries or lists"),
    };

    /// <summary>Converts a JSON element; numbers written with '.', 'e' or 'E' become floats, as in Python's json.loads.</summary>
    public static object? FromJson(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => ParseNumber(e.GetRawText()),
        JsonValueKind.Array => e.EnumerateArray().Select(FromJson).ToList(),
        JsonValueKind.Object => e.EnumerateObject().ToOrdered(p => p.Name, p => FromJson(p.Value)),
        _ => throw new ArgumentException($"unsupported JSON value kind {e.ValueKind}"),
    };

    /// <summary>Converts a mutable JSON node.</summary>
    public static object? FromNode(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => o.ToOrdered(kv => kv.Key, kv => FromNode(kv.Value)),
        JsonArray a => a.Select(FromNode).ToList(),
        JsonValue v => FromJson(v.Deserialize<JsonElement>()),
        _ => throw new ArgumentException($"unsupported JSON node {node.GetType().Name}"),
    };

    static object ParseNumber(string raw)
    {
        if (raw.IndexOfAny(['.', 'e', 'E']) < 0 && long.TryParse(raw, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long l))
            return l;
        return double.Parse(raw, System.Globalization.CultureInfo.InvariantCulture);
    }

    static OrderedDictionary<string, object?> ToOrdered<T>(this IEnumerable<T> items, Func<T, string> key, Func<T, object?> value)
    {
        var dict = new OrderedDictionary<string, object?>();
        foreach (var item in items) dict[key(item)] = value(item);
        return dict;
    }
}
