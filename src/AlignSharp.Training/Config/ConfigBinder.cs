using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Text;

namespace AlignSharp.Training.Config;

/// <summary>
/// Binds flat snake_case keys (from a YAML recipe and <c>--set key=value</c> overrides) to the init properties of
/// options records (TRL's names: learning_rate → LearningRate). Unknown keys and bad values are errors that name
/// the key, its source and the fix; <see cref="Describe"/> lists every key with its default, its
/// <c>[Description]</c> and its allowed values (an enum's names, or <c>[AllowedValues]</c> on a string) for --help.
/// </summary>
public static class ConfigBinder
{
    public static string SnakeCase(string name)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c) && i > 0 && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1])))) sb.Append('_');
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }

    private static PropertyInfo[] Settable(Type t) => t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).ToArray();

    /// <summary>The keys a type accepts.</summary>
    public static IEnumerable<string> Keys(Type t) => Settable(t).Select(p => SnakeCase(p.Name));

    /// <summary>
    /// A copy of <paramref name="defaults"/> with the values whose keys belong to <typeparamref name="T"/>; the keys used
    /// are removed from <paramref name="values"/> (so the caller can report what nobody claimed).
    /// </summary>
    public static T Bind<T>(T defaults, IDictionary<string, (string Value, string Source)> values) where T : class
    {
        var copy = (T)typeof(T).GetMethod("<Clone>$")!.Invoke(defaults, null)!;
        foreach (var p in Settable(typeof(T)))
        {
            string key = SnakeCase(p.Name);
            if (!values.Remove(key, out var entry)) continue;
            var value = Convert(entry.Value, p.PropertyType, key, entry.Source);
            if (value is string text && Allowed(p) is { } allowed && !allowed.Contains(text))
                throw new TrainingException($"{Where(entry.Source, key)}: '{text}' is not one of {string.Join(" | ", allowed)}");
            p.SetValue(copy, value);
        }
        return copy;
    }

    /// <summary>Fails on keys no options record claimed, suggesting the closest known key.</summary>
    public static void RejectUnknown(IDictionary<string, (string Value, string Source)> leftover, IEnumerable<string> known)
    {
        if (leftover.Count == 0) return;
        var (key, (_, source)) = leftover.First();
        var knownList = known.ToList();
        string? guess = knownList.OrderBy(k => Distance(k, key)).FirstOrDefault();
        throw new TrainingException($"{source}: unknown key '{key}'{(guess is not null && Distance(guess, key) <= 3 ? $" (did you mean '{guess}'?)" : "")}; run with --help for the list of keys");
    }

    /// <summary>"recipe.yaml:7: key", or "--set key" alone when the source already names the key.</summary>
    private static string Where(string source, string key) => source == $"--set {key}" ? source : $"{source}: {key}";

    private static object? Convert(string value, Type type, string key, string source)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (Nullable.GetUnderlyingType(type) is not null && (value is "" or "null" or "~")) return null;
        if (!type.IsValueType && value is "null" or "~") return null;
        try
        {
            if (target == typeof(string)) return value;
            if (target == typeof(int)) return int.Parse(value, CultureInfo.InvariantCulture);
            if (target == typeof(long)) return long.Parse(value, CultureInfo.InvariantCulture);
            if (target == typeof(ulong)) return ulong.Parse(value, CultureInfo.InvariantCulture);
            if (target == typeof(float)) return float.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture);
            if (target == typeof(double)) return double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture);
            if (target == typeof(bool)) return value.ToLowerInvariant() switch
            {
                "true" or "yes" or "1" => true,
                "false" or "no" or "0" => false,
                _ => throw new FormatException(),
            };
            if (target == typeof(IReadOnlyList<string>) || target == typeof(string[]))
                return value.Trim('[', ']').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => s.Trim('"', '\'')).ToArray();
            if (target == typeof(float[]))
                return value.Trim('[', ']').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(s => float.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();
            // Only the names a recipe spells (loss_type: robust); Enum.Parse alone would also take "3" or an undefined "99".
            if (target.IsEnum) return Enum.GetNames(target).FirstOrDefault(n => SnakeCase(n) == value.ToLowerInvariant()) is { } name
                ? Enum.Parse(target, name) : throw new FormatException();
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            throw new TrainingException($"{Where(source, key)}: '{value}' is not a valid {Describe(target)}");
        }
        throw new TrainingException($"{Where(source, key)}: values of type {target.Name} are not supported");
    }

    private static string Describe(Type t) =>
        t == typeof(int) || t == typeof(long) || t == typeof(ulong) ? "integer" : t == typeof(float) || t == typeof(double) ? "number" : t == typeof(bool) ? "boolean (true/false)" : t.IsEnum ? $"one of {string.Join(" | ", Enum.GetNames(t).Select(SnakeCase))}" : t == typeof(float[]) ? "list of numbers ([1.0, 0.5])" : t.Name;

    /// <summary>Every key of <paramref name="options"/> (its runtime type's properties) with its value as a recipe would write it.</summary>
    public static IEnumerable<(string Key, string Value)> Values(object options) =>
        Settable(options.GetType()).Select(p => (SnakeCase(p.Name), p.GetValue(options) switch
        {
            null => "null",
            string s => s.Length == 0 ? "\"\"" : s,
            bool b => b ? "true" : "false",
            Enum e => SnakeCase(e.ToString()),  // as Bind parses it: loss_type sigmoid, not Sigmoid
            float f => f.ToString(CultureInfo.InvariantCulture),
            double d => d.ToString(CultureInfo.InvariantCulture),
            IEnumerable<string> list => "[" + string.Join(", ", list) + "]",
            float[] numbers => "[" + string.Join(", ", numbers.Select(x => x.ToString(CultureInfo.InvariantCulture))) + "]",
            var v => System.Convert.ToString(v, CultureInfo.InvariantCulture) ?? "",
        }));

    /// <summary>
    /// The closed set of values a key accepts, as a recipe spells them: an enum's names in snake_case, or the
    /// <c>[AllowedValues]</c> of a string property; null for open values (numbers, paths).
    /// </summary>
    public static IReadOnlyList<string>? Allowed(PropertyInfo p)
    {
        var type = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
        if (type.IsEnum) return Enum.GetNames(type).Select(SnakeCase).ToArray();
        return p.GetCustomAttribute<AllowedValuesAttribute>()?.Values.Select(v => v?.ToString() ?? "null").ToArray();
    }

    /// <summary>
    /// "key: default  description (a | b | c)" lines for --help: the key and its default as a recipe writes them, the
    /// property's <c>[Description]</c> (or <paramref name="help"/>'s text for the key), and the allowed values of a closed set.
    /// </summary>
    public static IEnumerable<string> Describe(object defaults, IReadOnlyDictionary<string, string>? help = null)
    {
        var properties = Settable(defaults.GetType());
        var heads = Values(defaults).Select(kv => (kv.Key, Head: $"  {kv.Key}: {kv.Value}")).ToList();
        const int width = 36; // fixed, so lines of two option sets compare equal when a key's value does
        for (int i = 0; i < properties.Length; i++)
        {
            var (key, head) = heads[i];
            string text = help is not null && help.TryGetValue(key, out var h) ? h : properties[i].GetCustomAttribute<DescriptionAttribute>()?.Description ?? "";
            if (Allowed(properties[i]) is { } allowed) text = (text.Length > 0 ? text + " " : "") + $"({string.Join(" | ", allowed)})";
            yield return text.Length == 0 ? head : head.Length >= width ? $"{head}  {text}" : head.PadRight(width) + text;
        }
    }

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }
}
