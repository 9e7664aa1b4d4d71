using System.Text;
using AlignSharp.Tensors;

namespace AlignSharp.Cli;

/// <summary>
/// A deterministic text corpus for tokenizer training smoke tests and the tokenizer benchmark:
/// English prose from templates, plus mixed-script lines (CJK, Cyrillic, Arabic, Devanagari, Greek,
/// Korean, emoji with ZWJ sequences and flags), numbers, code and irregular whitespace — the cases
/// that stress pre-tokenizer regexes. Same seed, same text.
/// </summary>
internal static class SyntheticText
{
    private static readonly string[] Subjects = ["The model", "A small library", "Our team", "The compiler", "This function", "Every request", "The old server", "She", "He", "They", "The assistant", "A careful reader", "The test suite", "Nobody"];
    private static readonly string[] Verbs = ["reads", "writes", "trains", "checks", "returns", "ignores", "measures", "builds", "explains", "rejects", "caches", "compares", "loads", "prints"];
    private static readonly string[] Objects = ["the data", "a long report", "every token", "the weights", "three small files", "the results", "an error message", "the configuration", "its own output", "the benchmark", "a JSON document", "the gradient", "two thousand lines", "the user's question"];
    private static readonly string[] Tails = ["before lunch", "without complaint", "in under a second", "when it can", "again and again", "on two cores", "as expected", "for the first time", "quite slowly", "with great care", "because it must", "and then stops"];
    private static readonly string[] Contractions = ["don't", "it's", "we'll", "they're", "I've", "she'd", "I'm", "DON'T", "It'S", "WE'LL", "can't", "won't"];
    private static readonly string[] Foreign =
    [
        "机器学习模型需要大量的数据来训练。", "今日は良い天気ですね、散歩に行きましょう。", "Быстрая коричневая лиса прыгает через ленивую собаку.",
        "مرحبا بالعالم، هذا اختبار للنص العربي.", "नमस्ते दुनिया, यह एक परीक्षण है।", "Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο.",
        "안녕하세요, 세계! 이것은 테스트입니다.", "Ça va très bien, merci beaucoup — à bientôt!", "Größenordnung: Straße, Maß und Fuß.",
        "emoji 👍🏽 family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 heart ❤️ and 🤖 robots", "math 𝐀𝐁𝐂 𝔸𝔹ℂ and rare CJK 𠀀𠀁𪚥", "combining: e\u0301 a\u0308 n\u0303 — Z\u0336a\u0337l\u0338g\u0335o",
        "Tiếng Việt có dấu: Xin chào thế giới.", "עברית: שלום עולם", "ภาษาไทย สวัสดีชาวโลก",
    ];
    private static readonly string[] Code =
    [
        "for (int i = 0; i < n; i++) { sum += x[i] * y[i]; }", "def train(model, data):\n    return model.fit(data, epochs=3)",
        "if err != nil {\n\treturn fmt.Errorf(\"load: %w\", err)\n}", "SELECT id, name FROM users WHERE age >= 21 ORDER BY name;",
        "{\"role\": \"assistant\", \"content\": \"Hello!\"}", "https://example.com/path?query=1&x=2#frag", "x = [1, 2, 3]; y = {'a': 1}",
    ];

    private static readonly string[] Onsets = ["b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "br", "ch", "cl", "dr", "fl", "gr", "pl", "pr", "sh", "st", "th", "tr", ""];
    private static readonly string[] Nuclei = ["a", "e", "i", "o", "u", "ai", "ea", "ee", "ou", "y", "io"];
    private static readonly string[] Codas = ["", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ng", "ck", "rt", "x"];

    /// <summary>An invented lexicon: pronounceable words of 1–4 syllables, used with Zipf-like frequencies.</summary>
    private static string[] Lexicon(Rng rng, int size)
    {
        var words = new HashSet<string>();
        while (words.Count < size)
        {
            var w = new StringBuilder();
            int syllables = 1 + rng.NextInt(4);
            for (int i = 0; i < syllables; i++)
                w.Append(Onsets[rng.NextInt(Onsets.Length)]).Append(Nuclei[rng.NextInt(Nuclei.Length)]).Append(Codas[rng.NextInt(Codas.Length)]);
            words.Add(w.ToString());
        }
        return words.ToArray();
    }

    /// <summary>About <paramref name="bytes"/> UTF-8 bytes of text, in lines.</summary>
    public static string Generate(int bytes, ulong seed = 1)
    {
        var rng = new Rng(seed);
        var lexicon = Lexicon(rng, 30_000);
        // Zipf: rank r drawn with probability ∝ 1/r, by inverting the harmonic CDF approximately.
        string Zipf() => lexicon[Math.Min(lexicon.Length - 1, (int)Math.Exp(rng.NextDouble() * Math.Log(lexicon.Length)) - 1)];
        var sb = new StringBuilder(bytes + 256);
        string Pick(string[] items) => items[rng.NextInt(items.Length)];
        int utf8 = 0;
        while (utf8 < bytes)
        {
            int start = sb.Length;
            int kind = rng.NextInt(24);
            if (kind >= 20)
            {
                int words = 6 + rng.NextInt(20);
                for (int i = 0; i < words; i++)
                {
                    string word = Zipf();
                    if (i == 0 || rng.NextInt(12) == 0) word = char.ToUpperInvariant(word[0]) + word[1..];
                    sb.Append(i == 0 ? "" : rng.NextInt(15) == 0 ? ", " : " ").Append(word);
                }
                sb.Append('.');
            }
            else if (kind < 12)
            {
                int sentences = 1 + rng.NextInt(4);
                for (int s = 0; s < sentences; s++)
                {
                    if (s > 0) sb.Append(rng.NextInt(8) == 0 ? "  " : " ");
                    sb.Append(Pick(Subjects)).Append(' ').Append(Pick(Verbs)).Append(' ').Append(Pick(Objects));
                    if (rng.NextInt(3) == 0) sb.Append(", and ").Append(Pick(Contractions)).Append(' ').Append(Pick(Verbs)).Append(' ').Append(Pick(Objects));
                    if (rng.NextInt(2) == 0) sb.Append(' ').Append(Pick(Tails));
                    sb.Append(rng.NextInt(6) == 0 ? "!" : rng.NextInt(6) == 0 ? "?" : ".");
                }
            }
            else if (kind < 15) sb.Append(Pick(Foreign));
            else if (kind < 17) sb.Append(Pick(Code));
            else if (kind < 19)
                sb.Append("Item ").Append(rng.NextInt(1000)).Append(": ").Append(rng.NextInt(10_000_000)).Append(" units at $")
                  .Append(rng.NextInt(1000)).Append('.').Append(rng.NextInt(100).ToString("D2")).Append(" (").Append(rng.NextInt(100)).Append("%)");
            else sb.Append(rng.NextInt(2) == 0 ? "\t\tindented   text\twith   gaps " : "trailing spaces   ");
            sb.Append(rng.NextInt(10) == 0 ? "\r\n" : rng.NextInt(8) == 0 ? "\n\n" : "\n");
            utf8 += Encoding.UTF8.GetByteCount(sb.ToString(start, sb.Length - start));
        }
        return sb.ToString();
    }
}
