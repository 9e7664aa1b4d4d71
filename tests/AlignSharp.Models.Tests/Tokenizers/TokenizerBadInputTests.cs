using System.Text.Json.Nodes;
using AlignSharp.Models.Tokenizers;

namespace AlignSharp.Models.Tests.Tokenizers;

/// <summary>Crash classes the fuzzer (tools/fuzz) found in tokenizer.json and tokenizer_config.json reading.</summary>
[Collection(BadInputCollection.Name)]
public class TokenizerBadInputTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-tokbad-" + Guid.NewGuid().ToString("N"));
    public TokenizerBadInputTests() => Directory.CreateDirectory(_dir);
    public void Dispose() => Directory.Delete(_dir, true);

    static string Gpt2Json => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers", "gpt2", "tokenizer.json"));

    [Theory]
    [InlineData(2147483647)]
    [InlineData(2000000000)]
    public void Huge_vocabulary_id_is_a_tokenizer_error_not_an_overflow_or_out_of_memory(int id)
    {
        var json = JsonNode.Parse(Gpt2Json)!;
        json["model"]!["vocab"]!["zzz"] = id;
        var e = Assert.Throws<TokenizerException>(() => Tokenizer.FromJson(json.ToJsonString()));
        Assert.Contains("zzz", e.Message);
    }

    [Fact]
    public void Decoding_an_id_in_a_gap_of_the_vocabulary_is_a_tokenizer_error()
    {
        // Found by tools/fuzz: a vocabulary without id 1 (below its size) made Decode throw ArgumentOutOfRangeException.
        var json = JsonNode.Parse(Gpt2Json)!;
        var vocab = json["model"]!["vocab"]!.AsObject();
        string gap = vocab.First(kv => kv.Value!.GetValue<int>() == 1).Key;
        vocab.Remove(gap);
        var tokenizer = Tokenizer.FromJson(json.ToJsonString());
        Assert.True(tokenizer.VocabSize > 1);
        Assert.Contains("id 1", Assert.Throws<TokenizerException>(() => tokenizer.Decode([0, 1])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([tokenizer.VocabSize])); // past the end: the caller's mistake
    }

    [Fact]
    public void Catastrophic_split_regex_is_a_tokenizer_error_not_a_hang()
    {
        var json = JsonNode.Parse(Gpt2Json)!;
        json["pre_tokenizer"] = JsonNode.Parse("""{"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "(a+)+b"}, "behavior": "Isolated", "invert": false}, {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]}""");
        var tokenizer = Tokenizer.FromJson(json.ToJsonString());
        Assert.Contains("backtracking", Assert.Throws<TokenizerException>(() => tokenizer.Encode(new string('a', 40) + "c")).Message);
    }

    [Theory]
    [InlineData("post_processor", """{"type": "Sequence", "processors": [null]}""")]
    [InlineData("pre_tokenizer", """{"type": "Sequence", "pretokenizers": [null]}""")]
    [InlineData("normalizer", """{"type": "Sequence", "normalizers": [null]}""")]
    public void Null_inside_a_sequence_is_a_tokenizer_error_not_a_null_reference(string key, string value)
    {
        var json = JsonNode.Parse(Gpt2Json)!;
        json[key] = JsonNode.Parse(value);
        Assert.Contains($"$.{key}", Assert.Throws<TokenizerException>(() => Tokenizer.FromJson(json.ToJsonString()).Encode("hi")).Message);
    }

    [Theory]
    [InlineData("1e10")]
    [InlineData("1.5")]
    [InlineData("\"1\"")]
    public void Template_processing_id_that_is_not_an_int32_names_the_path(string id)
    {
        var json = JsonNode.Parse(Gpt2Json)!;
        json["post_processor"] = JsonNode.Parse(
            """{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "pair": [], "special_tokens": {"<s>": {"id": "<s>", "ids": ["""
            + id + """], "tokens": ["<s>"]}}}""");
        Assert.Contains("$.post_processor.special_tokens.<s>.ids", Assert.Throws<TokenizerException>(() => Tokenizer.FromJson(json.ToJsonString())).Message);
    }

    string Config(string json) { string f = Path.Combine(_dir, "tokenizer_config.json"); File.WriteAllText(f, json); return f; }

    [Fact]
    public void Duplicate_key_in_tokenizer_config_names_the_key() =>
        Assert.Contains("eos_token", Assert.Throws<TokenizerException>(() => TokenizerConfig.Load(Config("""{"eos_token": "a", "eos_token": "b"}"""))).Message);

    [Theory]
    [InlineData("""{"eos_token": "\ud800"}""")]
    [InlineData("""{"bos_token": {"content": "\udfff"}}""")]
    [InlineData("""{"chat_template": [{"name": 1, "template": "x"}]}""")]
    public void Surrogate_escapes_and_wrong_types_in_tokenizer_config_are_tokenizer_errors(string json) =>
        Assert.Contains("tokenizer_config.json", Assert.Throws<TokenizerException>(() => TokenizerConfig.Load(Config(json))).Message);
}
