using System.Globalization;
using System.Text;

namespace AlignSharp.Models.ChatTemplates;

/// <summary>
/// Python's printf-style <c>"%s" % value</c> (and the <c>format</c> filter): %s, %r, %d/%i, %f with precision, %%.
/// Width and flags beyond a precision are not supported.
/// </summary>
internal static class PercentFormat
{
    /// <summary>Formats <paramref name="format"/> with one value or a tuple of values.</summary>
    public static string Format(string format, object? values)
    {
        var args = values is TemplateTuple t ? t : new List<object?> { values };
        var sb = new StringBuilder();
        int next = 0;
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c != '%') { sb.Append(c); continue; }
            if (++i >= format.Length) throw new InvalidOperationException("incomplete format");
            int? precision = null;
            if (format[i] == '.')
            {
                int start = ++i;
                while (i < format.Length && char.IsAsciiDigit(format[i])) i++;
                precision = int.Parse(format.AsSpan(start, i - start), CultureInfo.InvariantCulture);
            }
            char spec = format[i];
            if (spec == '%') { sb.Append('%'); continue; }
            if (next >= args.Count) throw new InvalidOperationException("not enough arguments for format string");
            var value = args[next++];
            sb.Append(spec switch
            {
                's' => PythonText.Str(value),
                'r' => PythonText.Repr(value),
                'd' or 'i' => ((long)Math.Truncate(PythonSemantics.ToDouble(value))).ToString(CultureInfo.InvariantCulture),
                'f' or 'F' => PythonSemantics.ToDouble(value).ToString("F" + (precision ?? 6), CultureInfo.InvariantCulture),
                _ => throw new InvalidOperationException($"unsupported format character '{spec}'"),
            });
        }
        if (next < args.Count && values is TemplateTuple) throw new InvalidOperationException("not all arguments converted during string formatting");
        return sb.ToString();
    }
}
