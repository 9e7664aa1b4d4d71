using System.Text;

namespace AlignSharp.Models.ChatTemplates;

/// <summary>
/// The <c>tojson</c> filter as transformers defines it: <c>json.dumps(x, ensure_ascii=False, indent=indent,
/// separators=separators, sort_keys=sort_keys)</c>. Keys keep insertion order unless sort_keys; no HTML escaping
/// (transformers replaces jinja2's htmlsafe tojson).
/// </summary>
internal static class TemplateJson
{
    /// <summary>Serialises <paramref name="value"/>; <paramref name="indent"/> null means one line.</summary>
    public static string Dumps(object? value, string? indent, bool ensureAscii = false, string? itemSeparator = null, string? keySeparator = null, bool sortKeys = false)
    {
        // Python: with an indent the default item separator drops its trailing space (',' instead of ', ').
        itemSeparator ??= indent is null ? ", " : ",";
        keySeparator ??= ": ";
        var sb = new StringBuilder();
        Write(sb, value, indent, 0, ensureAscii, itemSeparator, keySeparator, sortKeys);
        return sb.ToString();
    }

    static void Write(StringBuilder sb, object? value, string? indent, int depth, bool ascii, string itemSep, string keySep, bool sortKeys)
    {
        switch (value)
        {
            case null or Undefined: sb.Append("null"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case long l: sb.Append(l); break;
            case double d:
                sb.Append(double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : PythonText.FloatRepr(d));
                break;
            case string s: WriteString(sb, s, ascii); break;
            case List<object?> list:
                WriteContainer(sb, '[', ']', list.Count, indent, depth, itemSep, i => Write(sb, list[i], indent, depth + 1, ascii, itemSep, keySep, sortKeys));
                break;
            case OrderedDictionary<string, object?> dict:
                WriteDict(sb, dict.Select(kv => kv).ToList(), indent, depth, ascii, itemSep, keySep, sortKeys);
                break;
            case TemplateNamespace ns:
                WriteDict(sb, ns.Attributes.Select(kv => kv).ToList(), indent, depth, ascii, itemSep, keySep, sortKeys);
                break;
            default:
                throw new InvalidOperationException($"Object of type {PythonSemantics.TypeName(value)} is not JSON serializable");
        }
    }

    static void WriteDict(StringBuilder sb, List<KeyValuePair<string, object?>> entries, string? indent, int depth, bool ascii, string itemSep, string keySep, bool sortKeys)
    {
        if (sortKeys) entries.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        WriteContainer(sb, '{', '}', entries.Count, indent, depth, itemSep, i =>
        {
            WriteString(sb, entries[i].Key, ascii);
            sb.Append(keySep);
            Write(sb, entries[i].Value, indent, depth + 1, ascii, itemSep, keySep, sortKeys);
        });
    }

    static void WriteContainer(StringBuilder sb, char open, char close, int count, string? indent, int depth, string itemSep, Action<int> writeItem)
    {
        sb.Append(open);
        if (count == 0) { sb.Append(close); return; }
        for (int i = 0; i < count; i++)
        {
            if (i > 0) sb.Append(itemSep);
            if (indent is not null) NewLine(sb, indent, depth + 1);
            writeItem(i);
        }
        if (indent is not null) NewLine(sb, indent, depth);
        sb.Append(close);
    }

    static void NewLine(StringBuilder sb, string indent, int depth)
    {
        sb.Append('\n');
        for (int i = 0; i < depth; i++) sb.Append(indent);
    }

    static void WriteString(StringBuilder sb, string s, bool ascii)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || (ascii && c > 0x7f)) sb.Append("\\u").Append(((int)c).ToString("x4"));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
