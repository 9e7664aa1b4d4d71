using System.Text.Json;
using AlignSharp.Models.Tokenizers;

namespace AlignSharp.Models.Tests.Tokenizers;

/// <summary>
/// Ids and decoded text against @huggingface/tokenizers (tools/node/gen_tokenizer_fixtures.mjs) for
/// GPT-2-, Llama-3- and Qwen2-style tokenizers that AlignSharp trained and saved, plus variants with
/// add_prefix_space and added tokens using lstrip/rstrip/single_word.
/// </summary>
public class TokenizerParityTests
{
    private static readonly string FixtureDir = Path.Combine(AppContext.BaseDirectory, "Fixtures");
    private static readonly Dictionary<string, Tokenizer> Tokenizers = new();

    private static Tokenizer Get(string name)
    {
        lock (Tokenizers)
        {
            if (!Tokenizers.TryGetValue(name, out var t))
                Tokenizers[name] = t = Tokenizer.Load(Path.Combine(FixtureDir, "tokenizers", name));
            return t;
        }
    }

    public static TheoryData<string> TokenizerNames => new() { "gpt2", "gpt2-prefix", "llama3", "llama3-added", "qwen2" };

    [Theory, MemberData(nameof(TokenizerNames))]
    public void Matches_huggingface_tokenizers(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(FixtureDir, "tokenizer_parity.json")));
        var tokenizer = Get(name);
        int checkedCases = 0;
        var failures = new List<string>();
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            if (c.GetProperty("tokenizer").GetString() != name) continue;
            string text = c.GetProperty("text").GetString()!;
            var expected = c.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            var expectedNoSpecial = c.GetProperty("ids_no_special").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            var actual = tokenizer.Encode(text);
            if (!expected.SequenceEqual(actual))
                failures.Add($"{JsonSerializer.Serialize(text)}: expected [{string.Join(" ", expected)}], got [{string.Join(" ", actual)}]");
            else if (!expectedNoSpecial.SequenceEqual(tokenizer.Encode(text, addSpecialTokens: false)))
                failures.Add($"{JsonSerializer.Serialize(text)} without special tokens differs");
            else if (c.GetProperty("decoded").GetString() != tokenizer.Decode(expected))
                failures.Add($"{JsonSerializer.Serialize(text)}: decoded {JsonSerializer.Serialize(tokenizer.Decode(expected))}");
            checkedCases++;
        }
        Assert.True(failures.Count == 0, $"{name}: {failures.Count} of {checkedCases} cases differ:\n" + string.Join("\n", failures));
        Assert.True(checkedCases > 30, $"only {checkedCases} fixture cases for {name}");
    }
}
