using System.Text;

namespace AlignSharp.Models.ChatTemplates;

/// <summary>Python's arithmetic and comparison operators over template values.</summary>
internal static class Operators
{
    /// <summary>Applies a binary arithmetic operator or <c>~</c>.</summary>
    public static object? Binary(string op, object? a, object? b)
    {
        if (op == "~") return PythonText.Str(a) + PythonText.Str(b);
        if (a is Undefined || b is Undefined) throw new InvalidOperationException($"cannot use an undefined value with '{op}'");
        switch (op)
        {
            case "+":
                if (a is string sa && b is string sb) return sa + sb;
                if (a is List<object?> la && b is List<object?> lb)
                    return a is TemplateTuple && b is TemplateTuple ? new TemplateTuple([.. la, .. lb]) : new List<object?>([.. la, .. lb]);
                return Arithmetic(op, a, b, (x, y) => x + y, (x, y) => x + y);
            case "-": return Arithmetic(op, a, b, (x, y) => x - y, (x, y) => x - y);
            case "*":
                if (a is string s && IsInt(b)) return Repeat(s, ToLong(b));
                if (b is string s2 && IsInt(a)) return Repeat(s2, ToLong(a));
                if (a is List<object?> l && IsInt(b))
                {
                    long times = Math.Max(0, ToLong(b));
                    TemplateLimits.CheckItems((double)l.Count * times, "list * n");
                    return Enumerable.Repeat(l, (int)times).SelectMany(x => x).ToList();
                }
                return Arithmetic(op, a, b, (x, y) => x * y, (x, y) => x * y);
            case "/":
                RequireNumbers(op, a, b);
                if (PythonSemantics.ToDouble(b) == 0) throw new InvalidOperationException("division by zero");
                return PythonSemantics.ToDouble(a) / PythonSemantics.ToDouble(b);
            case "//":
                RequireNumbers(op, a, b);
                if (PythonSemantics.ToDouble(b) == 0) throw new InvalidOperationException("integer division or modulo by zero");
                if (IsInt(a) && IsInt(b)) return FloorDiv(ToLong(a), ToLong(b));
                return Math.Floor(PythonSemantics.ToDouble(a) / PythonSemantics.ToDouble(b));
            case "%":
                if (a is string format) return PercentFormat.Format(format, b);
                RequireNumbers(op, a, b);
                if (PythonSemantics.ToDouble(b) == 0) throw new InvalidOperationException("integer division or modulo by zero");
                if (IsInt(a) && IsInt(b)) { long x = ToLong(a), y = ToLong(b); return x - y * FloorDiv(x, y); }
                {
                    double x = PythonSemantics.ToDouble(a), y = PythonSemantics.ToDouble(b);
                    return x - y * Math.Floor(x / y);
                }
            case "**":
                RequireNumbers(op, a, b);
                if (IsInt(a) && IsInt(b) && ToLong(b) >= 0)
                {
                    long result = 1, baseValue = ToLong(a);
                    for (long i = 0; i < ToLong(b); i++) result = checked(result * baseValue);
                    return result;
                }
                return Math.Pow(PythonSemantics.ToDouble(a), PythonSemantics.ToDouble(b));
        }
        throw new InvalidOperationException($"unknown operator '{op}'");
    }

    /// <summary>One link of a comparison chain.</summary>
    public static bool Compare(string op, object? a, object? b) => op switch
    {
        "==" => PythonSemantics.AreEqual(a, b),
        "!=" => !PythonSemantics.AreEqual(a, b),
        "<" => PythonSemantics.Compare(a, b) < 0,
        "<=" => PythonSemantics.Compare(a, b) <= 0,
        ">" => PythonSemantics.Compare(a, b) > 0,
        ">=" => PythonSemantics.Compare(a, b) >= 0,
        "in" => PythonSemantics.Contains(b, a),
        "not in" => !PythonSemantics.Contains(b, a),
        _ => throw new InvalidOperationException($"unknown comparison '{op}'"),
    };

    /// <summary>Unary minus.</summary>
    public static object? Negate(object? v) => v switch
    {
        long l => (object)(-l),
        double d => -d,
        bool b => b ? -1L : 0L,
        _ => throw new InvalidOperationException($"bad operand type for unary -: '{PythonSemantics.TypeName(v)}'"),
    };

    /// <summary>Unary plus.</summary>
    public static object? Plus(object? v) => v switch
    {
        long or double => v,
        bool b => (object)(b ? 1L : 0L),
        _ => throw new InvalidOperationException($"bad operand type for unary +: '{PythonSemantics.TypeName(v)}'"),
    };

    static bool IsInt(object? v) => v is long or bool;
    static long ToLong(object? v) => v is bool b ? (b ? 1 : 0) : (long)v!;

    static long FloorDiv(long x, long y)
    {
        long q = x / y;
        if ((x % y != 0) && ((x < 0) != (y < 0))) q--;
        return q;
    }

    static string Repeat(string s, long n)
    {
        TemplateLimits.CheckChars((double)s.Length * Math.Max(0, n), "string * n");
        var sb = new StringBuilder();
        for (long i = 0; i < n; i++) sb.Append(s);
        return sb.ToString();
    }

    static void RequireNumbers(string op, object? a, object? b)
    {
        if (!PythonSemantics.IsNumber(a) || !PythonSemantics.IsNumber(b))
            throw new InvalidOperationException($"unsupported operand type(s) for {op}: '{PythonSemantics.TypeName(a)}' and '{PythonSemantics.TypeName(b)}'");
    }

    static object Arithmetic(string op, object? a, object? b, Func<long, long, long> integer, Func<double, double, double> real)
    {
        RequireNumbers(op, a, b);
        if (IsInt(a) && IsInt(b)) return integer(ToLong(a), ToLong(b));
        return real(PythonSemantics.ToDouble(a), PythonSemantics.ToDouble(b));
    }
}
