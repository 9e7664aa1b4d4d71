using AlignSharp.Models.Checkpoints;
using AlignSharp.Models.Tests.Checkpoints;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Models.Transformers;

namespace AlignSharp.Models.Tests.Transformers;

/// <summary>Checks made when a model folder loads: reward vs causal LM, finite weights, a tokenizer that fits the embedding.</summary>
public class FolderCheckTests
{
    private static readonly string Qwen2Tokenizer = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers", "qwen2");

    [Fact]
    public void A_reward_model_folder_is_refused_as_a_causal_lm_but_loads_as_a_value_head_model()
    {
        using var dir = new TempFolder();
        using (var body = TransformerModel.Create(ModelPresets.Get("tiny", Architecture.Qwen2), seed: 2))
        using (var rm = ValueHeadModel.Create(body, seed: 1)) rm.Save(dir.Path);
        var e = Assert.Throws<ModelFormatException>(() => HuggingFaceFolder.Load(dir.Path));
        Assert.Contains("reward/value model (Qwen2ForSequenceClassification", e.Message);
        Assert.Contains("train rm", e.Message);
        Assert.False(HuggingFaceFolder.ReadConfig(dir.Path).HasLmHead);
        using var loaded = ValueHeadModel.Load(dir.Path);
        Assert.Equal(64, loaded.Score.Span.Length);
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "+Inf")]
    [InlineData(float.NegativeInfinity, "-Inf")]
    public void Non_finite_weights_name_the_tensor_unless_the_check_is_off(float bad, string shown)
    {
        using var dir = new TempFolder();
        using (var model = TransformerModel.Create(ModelPresets.Get("tiny", Architecture.Llama), seed: 2))
        {
            model.Parameters["model.layers.0.self_attn.k_proj.weight"].Span[37] = bad;
            HuggingFaceFolder.Save(model, dir.Path);
        }
        var e = Assert.Throws<ModelFormatException>(() => HuggingFaceFolder.Load(dir.Path));
        Assert.Contains("tensor 'model.layers.0.self_attn.k_proj.weight' holds 1 non-finite value(s)", e.Message);
        Assert.Equal(e.Message, Assert.Throws<ModelFormatException>(() => HuggingFaceFolder.CheckWeightsFinite(dir.Path)).Message);
        Assert.Contains($"first: {shown} at flat index 37", e.Message);
        using var unchecked_ = HuggingFaceFolder.Load(dir.Path, checkFinite: false);
        Assert.True(float.IsNaN(bad) ? float.IsNaN(unchecked_.Parameters["model.layers.0.self_attn.k_proj.weight"].Span[37])
            : unchecked_.Parameters["model.layers.0.self_attn.k_proj.weight"].Span[37] == bad);
    }

    [Fact]
    public void A_non_finite_score_head_is_named_too()
    {
        using var dir = new TempFolder();
        using (var body = TransformerModel.Create(ModelPresets.Get("tiny", Architecture.Llama), seed: 2))
        using (var rm = ValueHeadModel.Create(body, seed: 1))
        {
            rm.Score.Span[3] = float.PositiveInfinity;
            rm.Save(dir.Path);
        }
        Assert.Contains("tensor 'score.weight'", Assert.Throws<ModelFormatException>(() => ValueHeadModel.Load(dir.Path)).Message);
    }

    [Fact]
    public void First_non_finite_finds_every_position_including_the_tail_after_the_vectors()
    {
        for (int length = 1; length <= 70; length += 3)
            for (int at = 0; at < length; at++)
            {
                var values = Enumerable.Range(0, length).Select(i => i * 0.5f - 3f).ToArray();
                Assert.Equal(-1, HuggingFaceFolder.FirstNonFinite(values));
                values[at] = float.NaN;
                Assert.Equal(at, HuggingFaceFolder.FirstNonFinite(values));
            }
        Assert.Equal(-1, HuggingFaceFolder.FirstNonFinite([float.MaxValue, -float.MaxValue, float.Epsilon]));
    }

    [Theory]
    [InlineData("eos_token_id", "[\"a\"]", "eos_token_id[]: expected an integer, found \"a\"")]
    [InlineData("eos_token_id", "[null]", "eos_token_id[]: expected an integer, found null")]
    [InlineData("eos_token_id", "1.5", "eos_token_id: expected an integer in")]
    [InlineData("rope_scaling", "{\"rope_type\": \"llama3\", \"factor\": \"x\"}", "rope_scaling.factor: expected a number, found \"x\"")]
    [InlineData("rope_scaling", "{\"rope_type\": 5, \"factor\": 2}", "rope_scaling.rope_type: expected a string, found 5")]
    [InlineData("tie_word_embeddings", "\"yes\"", "tie_word_embeddings: expected true or false, found \"yes\"")]
    [InlineData("vocab_size", "1e12", "vocab_size: expected an integer in")]
    [InlineData("vocab_size", "40000000", "vocab_size × hidden_size must be below 2^31 (got 40000000 × 64)")]
    public void Bad_config_values_name_the_key(string key, string json, string message)
    {
        var config = System.Text.Json.Nodes.JsonNode.Parse(ModelPresets.Get("tiny", Architecture.Llama).ToJson())!.AsObject();
        config[key] = System.Text.Json.Nodes.JsonNode.Parse(json);
        var e = Assert.Throws<ModelFormatException>(() => ModelConfig.FromJson(config.ToJsonString(), "x/config.json").Validate("x/config.json"));
        Assert.Contains("x/config.json: " + message, e.Message);
    }

    [Fact]
    public void Non_string_architectures_are_named_not_a_crash()
    {
        var config = System.Text.Json.Nodes.JsonNode.Parse(ModelPresets.Get("tiny", Architecture.Llama).ToJson())!.AsObject();
        config["architectures"] = new System.Text.Json.Nodes.JsonArray(5, "LlamaForSequenceClassification");
        var e = Assert.Throws<ModelFormatException>(() => ModelConfig.FromJson(config.ToJsonString()));
        Assert.Contains("architectures[]: expected a string, found 5", e.Message);
    }

    [Fact]
    public void A_tokenizer_with_ids_past_the_embedding_is_refused_at_load()
    {
        var tokenizer = Tokenizer.Load(Qwen2Tokenizer);
        using var dir = new TempFolder();
        var config = ModelPresets.Get("tiny", Architecture.Qwen2);
        using (var model = TransformerModel.Create(config with { VocabSize = tokenizer.VocabSize - 1 }, seed: 2)) HuggingFaceFolder.Save(model, dir.Path);
        tokenizer.Save(dir.Path);
        var e = Assert.Throws<ModelFormatException>(() => HuggingFaceFolder.Load(dir.Path));
        Assert.Contains($"tokenizer.json has token ids up to {tokenizer.VocabSize - 1} but config.json vocab_size is {tokenizer.VocabSize - 1}", e.Message);

        // An embedding larger than the tokenizer (padded vocabularies, as Qwen2 ships) is fine.
        using (var model = TransformerModel.Create(config with { VocabSize = tokenizer.VocabSize + 64 }, seed: 2)) HuggingFaceFolder.Save(model, dir.Path);
        using var loaded = HuggingFaceFolder.Load(dir.Path);
        Assert.Equal(tokenizer.VocabSize + 64, loaded.Config.VocabSize);
    }
}
