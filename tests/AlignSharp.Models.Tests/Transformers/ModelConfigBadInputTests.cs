using AlignSharp.Models.Transformers;

namespace AlignSharp.Models.Tests.Transformers;

/// <summary>Crash classes the fuzzer (tools/fuzz) found in config.json parsing: each must now be a ModelFormatException naming the key.</summary>
[Collection(BadInputCollection.Name)]
public class ModelConfigBadInputTests
{
    /// <summary>A valid Llama config.json with <paramref name="extra"/> keys appended (later keys win).</summary>
    static string Llama(string extra) =>
        "{\"model_type\": \"llama\", \"vocab_size\": 32, \"hidden_size\": 16, \"intermediate_size\": 32, \"num_hidden_layers\": 1, \"num_attention_heads\": 2, " + extra + "}";

    static ModelFormatException Rejects(string json) => Assert.Throws<ModelFormatException>(() => ModelConfig.FromJson(json).Validate());

    [Fact]
    public void Unpaired_surrogate_escape_in_a_string_is_a_format_error()
    {
        var e = Rejects("""{"model_type": "ll\ud800ama"}""");
        Assert.Contains("model_type", e.Message);
    }

    [Fact]
    public void Unpaired_surrogate_escape_in_a_number_field_is_a_format_error() =>
        Assert.Contains("vocab_size", Rejects(Llama(@"""vocab_size"": ""\udc00""")).Message);

    [Theory]
    [InlineData("tie_word_embeddings")]
    [InlineData("attention_bias")]
    public void Unpaired_surrogate_escape_in_a_boolean_field_is_a_format_error(string key) =>
        Assert.Contains(key, Rejects(Llama($@"""{key}"": ""\ud800""")).Message);

    [Fact]
    public void Rope_scaling_factor_of_the_wrong_type_names_the_key() =>
        Assert.Contains("rope_scaling.factor", Rejects(Llama(@"""rope_scaling"": {""rope_type"": ""llama3"", ""factor"": ""8""}")).Message);

    [Theory]
    [InlineData("""{"model_type": "gpt2", "vocab_size": 32, "n_embd": 16, "n_layer": 1, "n_head": 0}""", "n_head")]
    [InlineData("""{"model_type": "llama", "vocab_size": 32, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 0}""", "num_attention_heads")]
    public void Zero_heads_is_a_format_error_not_a_division_by_zero(string json, string key) => Assert.Contains(key, Rejects(json).Message);

    [Theory]
    [InlineData("2147483648")]
    [InlineData("[1, 1e308]")]
    [InlineData("[\"2\"]")]
    [InlineData("[null]")]
    public void Eos_token_id_out_of_range_or_of_the_wrong_type_names_the_key(string eos) =>
        Assert.Contains("eos_token_id", Rejects(Llama(@"""eos_token_id"": " + eos + @"")).Message);

    [Fact]
    public void Integer_beyond_int32_is_a_format_error_not_a_wrapped_value() =>
        Assert.Contains("vocab_size", Rejects(Llama(@"""vocab_size"": 1e308")).Message);

    [Fact]
    public void Duplicate_key_names_the_key() =>
        Assert.Contains("rope_theta", Rejects(Llama(@"""rope_theta"": 1, ""rope_theta"": 2")).Message);

    [Fact]
    public void Architectures_entry_of_the_wrong_type_names_the_key() =>
        Assert.Contains("architectures", Rejects(Llama(@"""architectures"": [1]")).Message);
}
