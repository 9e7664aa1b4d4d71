using System.Text;
using System.Text.Json.Nodes;
using AlignSharp.Models.Tokenizers;

namespace AlignSharp.Models.Tests.Tokenizers;

public class TokenizerTests
{
    private static readonly string FixtureDir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers");
    private static Tokenizer Load(string name) => Tokenizer.Load(Path.Combine(FixtureDir, name));
    private static string Json(string name) => File.ReadAllText(Path.Combine(FixtureDir, name, "tokenizer.json"));

    public static TheoryData<string> Names => new() { "gpt2", "llama3", "qwen2", "llama3-added" };

    private static readonly string[] RoundTripTexts =
    [
        "plain ascii text with  double spaces\tand tabs\n",
        "emoji 👨‍👩‍👧‍👦 🇯🇵 👍🏽 ❤️‍🔥",
        "beyond the BMP: 𠀀𠀁𪚥 𝐀𝐁𝐂 𓀀 🀄",
        "combining: a\u0301\u0302\u0303 Z\u0336a\u0337",
        "control: \u0000\u0001\u0002\u001f\u007f\u0085\u200b\u200d\ufeff",
        "mixed: 机器学习 Быстрая مرحبا नमस्ते 안녕하세요",
        "",
        " ",
        "\r\n\r\n",
    ];

    [Theory, MemberData(nameof(Names))]
    public void Encode_decode_round_trips_any_text(string name)
    {
        var tokenizer = Load(name);
        foreach (var text in RoundTripTexts)
        {
            // Qwen2 normalizes to NFC first, so it round-trips to the NFC form.
            string expected = name == "qwen2" ? text.Normalize(NormalizationForm.FormC) : text;
            Assert.Equal(expected, tokenizer.Decode(tokenizer.Encode(text, addSpecialTokens: false)));
        }
    }

    [Fact]
    public void Lone_surrogates_become_replacement_characters()
    {
        var tokenizer = Load("llama3");
        string text = "a\ud800b\udc00c";
        Assert.Equal("a\ufffdb\ufffdc", tokenizer.Decode(tokenizer.Encode(text, addSpecialTokens: false)));
    }

    [Fact]
    public void Decode_can_skip_special_tokens()
    {
        var tokenizer = Load("llama3");
        var ids = tokenizer.Encode("<|start_header_id|>user<|end_header_id|>hi");
        Assert.Equal(tokenizer.TokenToId("<|begin_of_text|>"), ids[0]);
        Assert.Equal("userhi", tokenizer.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void Single_word_added_tokens_match_only_whole_words()
    {
        // As the Rust tokenizers library: a single_word token needs a non-word character (or the text edge) on both sides.
        var json = JsonNode.Parse(Json("llama3"))!;
        int id = json["model"]!["vocab"]!.AsObject().Count + 10;
        json["added_tokens"]!.AsArray().Add(new JsonObject
        {
            ["id"] = id, ["content"] = "wolf", ["single_word"] = true, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = false,
        });
        var tokenizer = Tokenizer.FromJson(json.ToJsonString());
        int Count(string text) => tokenizer.Encode(text, false).Count(t => t == id);
        Assert.Equal(1, Count("wolf"));
        Assert.Equal(2, Count("a wolf, the wolf."));
        Assert.Equal(0, Count("wolfpack werewolf wolf_x"));
    }

    [Fact]
    public void Offsets_cover_the_characters_of_each_token()
    {
        var tokenizer = Load("llama3");
        string text = "Hello wörld 👋 and 机器\n  end";
        var encoded = tokenizer.EncodeWithOffsets(text);
        Assert.True(encoded.IsSpecial[0]);
        var covered = new StringBuilder();
        int last = 0;
        for (int i = 1; i < encoded.Ids.Length; i++)
        {
            var (start, end) = encoded.Offsets[i];
            Assert.True(start >= last - 2 && end >= start && end <= text.Length, $"token {i} offsets ({start}, {end})");
            if (start >= last) covered.Append(text, start, end - start);
            last = Math.Max(last, end);
        }
        Assert.Equal(text, covered.ToString());
    }

    [Theory, MemberData(nameof(Names))]
    public void Save_then_load_gives_the_same_tokenizer(string name)
    {
        var tokenizer = Load(name);
        string dir = Path.Combine(Path.GetTempPath(), "alignsharp-tok-" + Guid.NewGuid().ToString("N"));
        try
        {
            tokenizer.Save(dir);
            var again = Tokenizer.Load(dir);
            Assert.Equal(tokenizer.ToJson(), again.ToJson());
            foreach (var text in RoundTripTexts) Assert.Equal(tokenizer.Encode(text), again.Encode(text));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Trainer_is_deterministic_and_respects_vocabulary_size()
    {
        var corpus = Enumerable.Range(0, 300).Select(i => $"Sample {i}: the quick brown fox jumps over {i % 7} lazy dogs. Don't stop!\n").ToList();
        var options = new BpeTrainerOptions(300, ["<s>", "</s>"], MinFrequency: 2, Style: TokenizerStyle.Llama3, BosToken: "<s>");
        var a = BpeTrainer.Train(corpus, options);
        var b = BpeTrainer.Train(corpus, options);
        Assert.Equal(a.ToJson(), b.ToJson());
        Assert.Equal(300, a.VocabSize);
        Assert.Equal(0, a.TokenToId("<s>"));
        Assert.Equal(1, a.TokenToId("</s>"));
        var ids = a.Encode("the quick brown fox");
        Assert.Equal(0, ids[0]);
        Assert.True(ids.Length < 10, $"42 merges should compress common words well below the 20 byte tokens, got {ids.Length}");
        Assert.Equal("the quick brown fox", a.Decode(ids, skipSpecialTokens: true));
    }

    [Theory]
    [InlineData("""{"version": "1.0"}""", "$.model: missing")]
    [InlineData("""{"model": {"type": "Unigram", "vocab": []}}""", "$.model.type: model 'Unigram' is not supported")]
    [InlineData("""{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b", "a c"]}}""", "$.model.merges[1]: 'c' is not in the vocabulary")]
    [InlineData("""{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [1]}}""", "$.model.merges[0]: expected")]
    [InlineData("""{"pre_tokenizer": {"type": "Metaspace"}, "model": {"type": "BPE", "vocab": {}, "merges": []}}""", "$.pre_tokenizer.type: pre-tokenizer 'Metaspace' is not supported")]
    [InlineData("""{"normalizer": {"type": "Strip"}, "model": {"type": "BPE", "vocab": {}, "merges": []}}""", "$.normalizer.type: normalizer 'Strip' is not supported")]
    [InlineData("""{"model": {"type": "BPE", "vocab": {}, "merges": [], "byte_fallback": true}}""", "$.model.byte_fallback")]
    [InlineData("""{"added_tokens": [{"content": "x"}], "model": {"type": "BPE", "vocab": {}, "merges": []}}""", "$.added_tokens[0].id: missing")]
    [InlineData("{\n  \"model\": {,\n}", "not valid JSON at line 2")]
    public void Malformed_files_name_the_json_path(string json, string expected)
    {
        var e = Assert.Throws<TokenizerException>(() => Tokenizer.FromJson(json, "my/tokenizer.json"));
        Assert.Contains("my/tokenizer.json", e.Message);
        Assert.Contains(expected, e.Message);
    }
}

/// <summary>One tokenizer encodes for many requests at once (a server, a batching chat client): its piece cache must not tear.</summary>
public class TokenizerConcurrencyTests
{
    [Fact]
    public void Concurrent_encoding_equals_sequential_encoding()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers");
        string name = Directory.GetDirectories(dir).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).First(n => File.ReadAllText(Path.Combine(dir, n!, "tokenizer.json")).Contains("\"BPE\""))!;
        var texts = Enumerable.Range(0, 4000).Select(i => $"request {i}: the quick brown fox {i * 7919 % 1000} jumps — ünïcode {i % 13} times").ToArray();
        var sequential = Tokenizer.Load(Path.Combine(dir, name));
        var expected = texts.Select(t => sequential.Encode(t)).ToArray();
        var shared = Tokenizer.Load(Path.Combine(dir, name));
        var actual = new int[texts.Length][];
        Parallel.For(0, texts.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => actual[i] = shared.Encode(texts[i]));
        for (int i = 0; i < texts.Length; i++) Assert.Equal(expected[i], actual[i]);
    }
}
