using System.Text;
using System.Text.Json;

namespace AlignSharp.Fuzz;

/// <summary>
/// Turns a seed into a bad input: byte flips, truncation, splices, invalid UTF-8, and structure-aware edits that
/// replace a JSON value (or a token of a text format) with a value of the wrong type, a huge number, a long string
/// or deep nesting. Everything comes from the given <see cref="Random"/>, so an input is a function of its seed.
/// </summary>
public static class Mutator
{
    /// <summary>JSON texts that break type and range assumptions: wrong kinds, int32/int64 edges, huge and tiny doubles.</summary>
    static readonly string[] JsonValues =
    [
        "null", "true", "false", "0", "-1", "1", "2", "-0", "1.5", "1e308", "-1e308", "1e-320", "1e400",
        "2147483647", "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
        "18446744073709551616", "\"\"", "\"x\"", "\"NaN\"", "\"\\ud800\"", "\"\\u0000\"", "[]", "{}", "[null]", "[1, 2]",
        "[\"a\", 1]", "{\"a\": 1}", "{\"role\": \"user\", \"content\": \"hi\"}", "[[]]", "[{}]",
    ];

    /// <summary>Byte sequences that are not UTF-8: lone continuation, overlong, surrogate, truncated, out of range.</summary>
    static readonly byte[][] InvalidUtf8 =
    [
        [0x80], [0xBF], [0xC0, 0xAF], [0xC3, 0x28], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF0, 0x28, 0x8C, 0x28],
        [0xF4, 0x90, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xFE], [0xFF], [0xFF, 0xFE], [0xEF, 0xBB, 0xBF],
    ];

    /// <summary>Fragments of the text formats (Jinja, YAML, JSONL) spliced in by the token-level mutations.</summary>
    public static readonly string[] TextTokens =
    [
        "{{", "}}", "{%", "%}", "{#", "#}", "{%-", "-%}", " for x in ", " endfor ", " if ", " endif ", " else ", " elif ",
        " set ", " macro ", " endmacro ", " call ", " endcall ", " filter ", " endfilter ", " generation ", " endgeneration ",
        " break ", " continue ", "(", ")", "[", "]", "{", "}", "|", "~", "*", "**", "//", "%", "+", "-", ".", ",", ":", "=",
        "==", " is ", " not ", " and ", " or ", " in ", "range(", "range(999999999)", "10**9", "99999999999999999999",
        "-1", "0", "1e308", "'", "\"", "\\", "\n", "\t", "\r", "loop", "messages", "namespace(", "tojson", "join", "items()",
        "raise_exception(", "caller()", "self", "x", "none", "None", "true", "[0]", "[-1]", "[::-1]", "[1:]", "%s",
        "- ", ": ", "&a ", "*a ", "!!str ", "!!int ", "!!binary ", "? ", "--- ", "...", "|-\n  ", ">\n  ", "<<: *a",
        "\"role\"", "\"content\"", "\"prompt\"", "\"chosen\"", "\"rejected\"", "\"messages\"", "\"label\"", "\"completion\"",
    ];

    /// <summary>Applies one to four mutations to a copy of <paramref name="seed"/>.</summary>
    public static byte[] Mutate(Random rng, byte[] seed, IReadOnlyList<byte[]> seeds, bool jsonAware, bool textAware)
    {
        var data = new List<byte>(seed);
        int count = 1 + rng.Next(4);
        for (int m = 0; m < count; m++)
        {
            int kind = rng.Next(12);
            switch (kind)
            {
                case 0: FlipBit(rng, data); break;
                case 1: SetByte(rng, data); break;
                case 2: DeleteRange(rng, data); break;
                case 3: Truncate(rng, data); break;
                case 4: Splice(rng, data, seeds[rng.Next(seeds.Count)]); break;
                case 5: Insert(rng, data, InvalidUtf8[rng.Next(InvalidUtf8.Length)]); break;
                case 6: DuplicateRange(rng, data); break;
                case 7: Insert(rng, data, Encoding.UTF8.GetBytes(Nesting(rng))); break;
                default:
                    if (jsonAware && ReplaceJsonValue(rng, data)) break;
                    if (textAware) { Insert(rng, data, Encoding.UTF8.GetBytes(TextTokens[rng.Next(TextTokens.Length)])); break; }
                    SetByte(rng, data);
                    break;
            }
        }
        return [.. data];
    }

    /// <summary>A JSON value text chosen to break the parser's assumptions (see <see cref="JsonValues"/>), a long string or deep nesting.</summary>
    public static string BadJsonValue(Random rng) => rng.Next(10) switch
    {
        0 => "\"" + new string('a', rng.Next(2) == 0 ? 70_000 : 1 + rng.Next(300)) + "\"",
        1 => Nesting(rng),
        _ => JsonValues[rng.Next(JsonValues.Length)],
    };

    /// <summary>Brackets nested 10..100 000 deep (JSON arrays/objects, Jinja parentheses, YAML flow lists).</summary>
    public static string Nesting(Random rng)
    {
        int depth = rng.Next(3) switch { 0 => 10 + rng.Next(100), 1 => 1000 + rng.Next(5000), _ => 100_000 };
        var (open, close) = rng.Next(4) switch { 0 => ("[", "]"), 1 => ("{\"a\":", "}"), 2 => ("(", ")"), _ => ("[", "") };
        var sb = new StringBuilder(depth * (open.Length + close.Length) + 1);
        for (int i = 0; i < depth; i++) sb.Append(open);
        sb.Append('1');
        for (int i = 0; i < depth; i++) sb.Append(close);
        return sb.ToString();
    }

    static void FlipBit(Random rng, List<byte> d) { if (d.Count > 0) { int i = rng.Next(d.Count); d[i] ^= (byte)(1 << rng.Next(8)); } }

    static void SetByte(Random rng, List<byte> d)
    {
        if (d.Count == 0) { d.Add((byte)rng.Next(256)); return; }
        byte[] interesting = [0, 0xFF, 0x7F, 0x80, (byte)'"', (byte)'{', (byte)'}', (byte)'[', (byte)']', (byte)':', (byte)',', (byte)'\\', (byte)'\n', (byte)'-', (byte)'9'];
        d[rng.Next(d.Count)] = rng.Next(2) == 0 ? interesting[rng.Next(interesting.Length)] : (byte)rng.Next(256);
    }

    static void DeleteRange(Random rng, List<byte> d)
    {
        if (d.Count == 0) return;
        int start = rng.Next(d.Count), length = 1 + rng.Next(Math.Min(64, d.Count - start));
        d.RemoveRange(start, length);
    }

    /// <summary>Cuts the input at a random byte (possibly inside a UTF-8 sequence or a token).</summary>
    static void Truncate(Random rng, List<byte> d) { if (d.Count > 0) { int cut = rng.Next(d.Count); d.RemoveRange(cut, d.Count - cut); } }

    static void Splice(Random rng, List<byte> d, byte[] other)
    {
        if (other.Length == 0) return;
        int at = rng.Next(d.Count + 1), from = rng.Next(other.Length), length = 1 + rng.Next(Math.Min(512, other.Length - from));
        d.InsertRange(at, other.AsSpan(from, length).ToArray());
    }

    static void Insert(Random rng, List<byte> d, byte[] bytes) => d.InsertRange(rng.Next(d.Count + 1), bytes);

    static void DuplicateRange(Random rng, List<byte> d)
    {
        if (d.Count == 0) return;
        int start = rng.Next(d.Count), length = 1 + rng.Next(Math.Min(256, d.Count - start));
        var copy = d.GetRange(start, length);
        int times = rng.Next(3) == 0 ? 50 : 1;
        for (int i = 0; i < times; i++) d.InsertRange(rng.Next(d.Count + 1), copy);
    }

    /// <summary>Replaces one JSON value (scalar or container, found by tokenizing the current bytes) with a bad value.</summary>
    static bool ReplaceJsonValue(Random rng, List<byte> d)
    {
        var spans = ValueSpans([.. d]);
        if (spans.Count == 0) return false;
        var (start, end) = spans[rng.Next(spans.Count)];
        d.RemoveRange(start, end - start);
        d.InsertRange(start, Encoding.UTF8.GetBytes(BadJsonValue(rng)));
        return true;
    }

    /// <summary>[start, end) byte ranges of every value of a JSON text (or of each line of a JSONL text), as far as it tokenizes.</summary>
    static List<(int Start, int End)> ValueSpans(byte[] bytes)
    {
        var spans = new List<(int, int)>();
        CollectSpans(bytes, 0, spans);
        return spans;
    }

    static void CollectSpans(ReadOnlySpan<byte> json, int offset, List<(int, int)> spans)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = 256, AllowMultipleValues = true });
        var open = new Stack<int>();
        try
        {
            while (reader.Read())
            {
                int start = offset + (int)reader.TokenStartIndex;
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject: case JsonTokenType.StartArray: open.Push(start); break;
                    case JsonTokenType.EndObject: case JsonTokenType.EndArray:
                        if (open.Count > 0) spans.Add((open.Pop(), start + 1));
                        break;
                    case JsonTokenType.PropertyName: break;
                    default: spans.Add((start, offset + (int)reader.BytesConsumed)); break;
                }
            }
        }
        catch (JsonException) { /* the text is already broken; keep the spans found so far */ }
    }
}
