using System.Globalization;
using System.Text;

namespace AlignSharp.Models.ChatTemplates;

/// <summary>
/// Globals every chat template sees: <c>range</c>, <c>namespace</c>, <c>dict</c>, and the two transformers adds,
/// <c>raise_exception(msg)</c> and <c>strftime_now(fmt)</c>.
/// </summary>
internal static class TemplateGlobals
{
    /// <summary>Binds the globals into <paramref name="scope"/>.</summary>
    public static void Install(Scope scope)
    {
        scope.Set("range", new TemplateFunction("range", Range));
        scope.Set("namespace", new TemplateFunction("namespace", Namespace));
        scope.Set("dict", new TemplateFunction("dict", a => new OrderedDictionary<string, object?>(a.Keywords)));
        scope.Set("raise_exception", new TemplateFunction("raise_exception", a => throw new RaiseException(PythonText.Str(a.Get(0, "message", "")))));
        scope.Set("strftime_now", new TemplateFunction("strftime_now", a => Strftime(DateTime.Now, PythonText.Str(a.Get(0, "format", "")))));
    }

    static object? Range(CallArguments a)
    {
        var n = a.Positional.Select(v => v is long l ? l : v is bool b ? (b ? 1L : 0L)
            : throw new InvalidOperationException($"range() takes integers, got {PythonSemantics.TypeName(v)}")).ToList();
        (long start, long stop, long step) = n.Count switch
        {
            1 => (0L, n[0], 1L),
            2 => (n[0], n[1], 1L),
            3 => (n[0], n[1], n[2]),
            _ => throw new InvalidOperationException($"range expected 1 to 3 arguments, got {n.Count}"),
        };
        if (step == 0) throw new InvalidOperationException("range() arg 3 must not be zero");
        // Counted in Int128: stop - start overflows long for extreme arguments, and i += step could wrap and never end.
        Int128 span = (Int128)stop - start, count = span == 0 || (span > 0) != (step > 0) ? 0 : (span + step - (step > 0 ? 1 : -1)) / step;
        TemplateLimits.CheckItems((double)count, "range()");
        var result = new List<object?>((int)count);
        for (long i = start; result.Count < (int)count; i += step) result.Add(i);
        return result;
    }

    static object? Namespace(CallArguments a)
    {
        var ns = new TemplateNamespace();
        foreach (var p in a.Positional)
        {
            if (p is OrderedDictionary<string, object?> d) foreach (var (k, v) in d) ns.Attributes[k] = v;
            else throw new InvalidOperationException("namespace() takes keyword arguments or a dict");
        }
        foreach (var (k, v) in a.Keywords) ns.Attributes[k] = v;
        return ns;
    }

    /// <summary>Python <c>datetime.strftime</c> for the common directives, with English month and day names.</summary>
    public static string Strftime(DateTime t, string format)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length) { sb.Append(format[i]); continue; }
            char d = format[++i];
            sb.Append(d switch
            {
                'Y' => t.Year.ToString("0000", inv),
                'y' => (t.Year % 100).ToString("00", inv),
                'm' => t.Month.ToString("00", inv),
                'd' => t.Day.ToString("00", inv),
                'e' => t.Day.ToString(inv).PadLeft(2),
                'H' => t.Hour.ToString("00", inv),
                'I' => ((t.Hour + 11) % 12 + 1).ToString("00", inv),
                'M' => t.Minute.ToString("00", inv),
                'S' => t.Second.ToString("00", inv),
                'p' => t.Hour < 12 ? "AM" : "PM",
                'b' => inv.DateTimeFormat.GetAbbreviatedMonthName(t.Month),
                'B' => inv.DateTimeFormat.GetMonthName(t.Month),
                'a' => inv.DateTimeFormat.GetAbbreviatedDayName(t.DayOfWeek),
                'A' => inv.DateTimeFormat.GetDayName(t.DayOfWeek),
                'j' => t.DayOfYear.ToString("000", inv),
                'Z' => "",
                '%' => "%",
                _ => "%" + d,
            });
        }
        return sb.ToString();
    }
}
