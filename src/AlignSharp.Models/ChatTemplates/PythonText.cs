using System.Globalization;
using System.Text;

namespace AlignSharp.Models.ChatTemplates;

/// <summary>
/// Python's <c>str()</c> and <c>repr()</c> of template values, because jinja2 prints <c>{{ x }}</c> as <c>str(x)</c>:
/// True prints "True", None prints "None", lists print as <c>['a', 1]</c>, floats as Python's shortest repr.
/// </summary>
internal static class PythonText
{
    /// <summary>Python <c>str(value)</c>; Undefined prints as empty.</summary>
    public static string Str(object? value) => value switch
    {
        string s => s,
        Undefined => "",
        _ => Repr(value),
    };

    /// <summary>Python <c>repr(value)</c>.</summary>
    public static string Repr(object? value)
    {
        var sb = new StringBuilder();
        AppendRepr(sb, value);
        return sb.ToString();
    }

    static void AppendRepr(StringBuilder sb, object? value)
    {
        switch (value)
        {
            case null: sb.Append("None"); break;
            case Undefined: break;
            case bool b: sb.Append(b ? "True" : "False"); break;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d: sb.Append(FloatRepr(d)); break;
            case string s: AppendStringRepr(sb, s); break;
            case TemplateTuple t:
                sb.Append('(');
                for (int i = 0; i < t.Count; i++) { if (i > 0) sb.Append(", "); AppendRepr(sb, t[i]); }
                if (t.Count == 1) sb.Append(',');
                sb.Append(')');
                break;
            case List<object?> list:
                sb.Append('[');
                for (int i = 0; i < list.Count; i++) { if (i > 0) sb.Append(", "); AppendRepr(sb, list[i]); }
                sb.Append(']');
                break;
            case OrderedDictionary<string, object?> dict:
                sb.Append('{');
                int n = 0;
                foreach (var (k, v) in dict)
                {
                    if (n++ > 0) sb.Append(", ");
                    AppendStringRepr(sb, k);
                    sb.Append(": ");
                    AppendRepr(sb, v);
                }
                sb.Append('}');
                break;
            case TemplateNamespace ns:
                sb.Append("<Namespace ");
                AppendRepr(sb, ns.Attributes);
                sb.Append('>');
                break;
            case TemplateFunction f: sb.Append("<function ").Append(f.Name).Append('>'); break;
            default: sb.Append(value.ToString()); break;
        }
    }

    /// <summary>Python string repr: single quotes unless the text holds a single quote and no double quote.</summary>
    static void AppendStringRepr(StringBuilder sb, string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        sb.Append(quote);
        foreach (char c in s)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c == quote) sb.Append('\\').Append(c);
                    else if (c < 0x20 || c == 0x7f) sb.Append("\\x").Append(((int)c).ToString("x2"));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append(quote);
    }

    /// <summary>
    /// Python float repr: the shortest round-trip digits, fixed notation for decimal exponents in [-4, 16),
    /// scientific (<c>1e+16</c>, <c>1e-05</c>) outside, and always a fractional part in fixed notation (<c>1.0</c>).
    /// </summary>
    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsPositiveInfinity(d)) return "inf";
        if (double.IsNegativeInfinity(d)) return "-inf";
        if (d == 0) return double.IsNegative(d) ? "-0.0" : "0.0";

        // "E16" is not shortest; "R" is shortest but switches notation at other thresholds, so re-derive digits and exponent.
        string r = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        string digits;
        int exponent; // value = 0.d1d2d3... * 10^(exponent+1), i.e. d1 sits at 10^exponent
        int e = r.IndexOfAny(['E', 'e']);
        string mantissa = e >= 0 ? r[..e] : r;
        int extra = e >= 0 ? int.Parse(r[(e + 1)..], CultureInfo.InvariantCulture) : 0;
        int dot = mantissa.IndexOf('.');
        string intPart = dot >= 0 ? mantissa[..dot] : mantissa;
        string fracPart = dot >= 0 ? mantissa[(dot + 1)..] : "";
        string all = (intPart + fracPart).TrimStart('0');
        int leadingZeros = (intPart + fracPart).Length - all.Length;
        exponent = intPart.Length - 1 - leadingZeros + extra;
        digits = all.TrimEnd('0');
        if (digits.Length == 0) digits = "0";

        var sb = new StringBuilder();
        if (d < 0) sb.Append('-');
        if (exponent >= -4 && exponent < 16)
        {
            if (exponent < 0)
            {
                sb.Append("0.").Append('0', -exponent - 1).Append(digits);
            }
            else if (digits.Length <= exponent + 1)
            {
                sb.Append(digits).Append('0', exponent + 1 - digits.Length).Append(".0");
            }
            else
            {
                sb.Append(digits, 0, exponent + 1).Append('.').Append(digits, exponent + 1, digits.Length - exponent - 1);
            }
        }
        else
        {
            sb.Append(digits[0]);
            if (digits.Length > 1) sb.Append('.').Append(digits, 1, digits.Length - 1);
            sb.Append('e').Append(exponent < 0 ? '-' : '+').Append(Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}
