using AlignSharp.Feedback;
using System.Text.RegularExpressions;

namespace AlignSharp.Alignment.Environments.DemoWorld;

/// <summary>
/// Checks the format instruction in the prompt's "format" metadata; 1 when followed, else 0; null when the prompt has none.
/// <list type="bullet">
/// <item><c>one_word</c>: exactly one whitespace-separated word once surrounding punctuation is stripped ("Quenport." passes).</item>
/// <item><c>three_items</c>: exactly three items, either as lines (bulleted or numbered lines when any line is, else
/// every non-empty line) or on one line separated by commas and "and" ("a, b and c", "a, b, and c").</item>
/// <item><c>upper_case</c>: at least one letter and no lower-case letter.</item>
/// </list>
/// An unknown format value is a data error and throws, naming the prompt and the known formats.
/// </summary>
public sealed class WorldFormatVerifier : ISignalSource
{
    /// <summary>The format values this verifier understands.</summary>
    public static IReadOnlyList<string> KnownFormats { get; } = ["one_word", "three_items", "upper_case"];

    static readonly Regex Bullet = new(@"^\s*(?:[-*•]|\d+[.)])\s+", RegexOptions.CultureInvariant);
    static readonly Regex And = new(@"\s*\band\b\s*|\s*&\s*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    const string Punctuation = ".,;:!?\"'()[]{}«»“”‘’…";

    public string Name => "format";

    /// <summary>Bump the version when the check changes, so cached labels of the old check are not reused.</summary>
    public string Fingerprint => SignalFingerprint.Of(Name, 1);

    public FeedbackLabel? Score(PromptRecord prompt, string response)
    {
        if (prompt.Get("format") is not { } format) return null;
        var (ok, found) = format switch
        {
            "one_word" => OneWord(response),
            "three_items" => ThreeItems(response),
            "upper_case" => UpperCase(response),
            _ => throw new FeedbackException($"prompt {prompt.Id}: format '{format}' is not known; known formats: {string.Join(", ", KnownFormats)}"),
        };
        return new FeedbackLabel(ok ? 1 : 0, $"{format}: {(ok ? "followed" : "not followed")} ({found})", new Provenance(Name, SignalKind.Verifier, PrincipleId: format));
    }

    static (bool, string) OneWord(string response)
    {
        var words = response.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .Select(w => w.Trim(Punctuation.ToCharArray())).Where(w => w.Length > 0).ToArray();
        return (words.Length == 1, $"{words.Length} word{(words.Length == 1 ? "" : "s")}");
    }

    static (bool, string) ThreeItems(string response)
    {
        int n = CountItems(response);
        return (n == 3, $"{n} item{(n == 1 ? "" : "s")}");
    }

    /// <summary>Items in a list written as lines or as one comma/"and"-separated line.</summary>
    public static int CountItems(string response)
    {
        var lines = response.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        if (lines.Length >= 2)
        {
            int bulleted = lines.Count(l => Bullet.IsMatch(l));
            return bulleted > 0 ? bulleted : lines.Length;
        }
        var line = lines.Length == 1 ? lines[0].TrimEnd(Punctuation.ToCharArray()) : "";
        return line.Split(',').SelectMany(part => And.Split(part)).Count(item => item.Trim(Punctuation.ToCharArray()).Trim().Length > 0);
    }

    static (bool, string) UpperCase(string response)
    {
        int letters = response.Count(char.IsLetter), lower = response.Count(char.IsLower);
        return (letters > 0 && lower == 0, letters == 0 ? "no letters" : $"{lower} lower-case letter{(lower == 1 ? "" : "s")}");
    }
}
