using AlignSharp.Models.Generation;
using AlignSharp.Models.Tests.Checkpoints;
using AlignSharp.Models.Transformers;

namespace AlignSharp.Models.Tests.Generation;

/// <summary>Bad generation options and requests are refused before decoding, naming the option; generation_config.json is checked on read.</summary>
public class GenerationValidationTests
{
    private static TransformerModel Model() => TransformerModel.Create(ModelPresets.Get("tiny", Architecture.Llama) with { EosTokenIds = [] }, seed: 3);

    public static TheoryData<GenerationOptions, string> BadOptions => new()
    {
        { new GenerationOptions { Temperature = -1 }, "temperature" },
        { new GenerationOptions { Temperature = float.NaN }, "temperature" },
        { new GenerationOptions { TopP = 2 }, "top_p" },
        { new GenerationOptions { TopP = 0 }, "top_p" },
        { new GenerationOptions { MinP = 5 }, "min_p" },
        { new GenerationOptions { RepetitionPenalty = 0 }, "repetition_penalty" },
        { new GenerationOptions { TopK = -1 }, "top_k" },
        { new GenerationOptions { MaxNewTokens = -1 }, "max_new_tokens" },
        { new GenerationOptions { StopStrings = ["\n", ""] }, "stop_strings" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Out_of_range_options_name_the_option(GenerationOptions options, string option)
    {
        var e = Assert.Throws<GenerationOptionException>(options.Validate);
        Assert.Equal(option, e.Option);
        Assert.StartsWith(option + " must ", e.Message);
        using var model = Model();
        Assert.Equal(option, Assert.Throws<GenerationOptionException>(() => new Generator(model).Generate([[1, 2]], options)).Option);
    }

    [Fact]
    public void Prompt_ids_outside_the_vocabulary_and_prompts_past_the_context_are_refused_before_decoding()
    {
        using var model = Model();
        var generator = new Generator(model);
        var options = new GenerationOptions { MaxNewTokens = 2, Temperature = 0 };
        var e = Assert.Throws<GenerationOptionException>(() => generator.Generate([[1, 512]], options));
        Assert.Contains("prompt token id 512 is outside the model's vocabulary (vocab_size 512: ids 0-511)", e.Message);
        Assert.Contains("id -1", Assert.Throws<GenerationOptionException>(() => generator.Generate([[-1]], options)).Message);
        e = Assert.Throws<GenerationOptionException>(() => generator.Generate([new int[257]], options));
        Assert.Contains("the prompt has 257 tokens, more than the model's context (max_position_embeddings 256)", e.Message);
        // Generation stops when the context is full: a full-context prompt still gets the token its last position predicts.
        Assert.Single(generator.Generate([new int[256]], options)[0].Tokens);
        Assert.Equal(2, generator.Generate([new int[255]], options)[0].Tokens.Length);
    }

    [Fact]
    public async Task Streaming_reports_a_bad_request_itself_not_wrapped()
    {
        using var model = Model();
        var stream = new Generator(model).StreamAsync([1, 2], new GenerationOptions { TopP = 3 }).GetAsyncEnumerator();
        var e = await Assert.ThrowsAsync<GenerationOptionException>(async () => await stream.MoveNextAsync());
        Assert.Equal("top_p", e.Option);
    }

    [Fact]
    public void Ids_past_the_tokenizer_in_a_padded_embedding_have_no_text()
    {
        var tokenizer = AlignSharp.Models.Tokenizers.Tokenizer.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers", "qwen2"));
        int padded = tokenizer.VocabSize + 4 * tokenizer.VocabSize;
        using var model = TransformerModel.Create(ModelPresets.Get("tiny", Architecture.Qwen2) with { VocabSize = padded, EosTokenIds = [] }, seed: 5);
        var generator = new Generator(model, tokenizer);
        var result = generator.Generate([[1, 2]], new GenerationOptions { MaxNewTokens = 24, Temperature = 1, Seed = 1 })[0];
        Assert.Contains(result.Tokens, id => id >= tokenizer.VocabSize);
        var known = result.Tokens.Where(id => id < tokenizer.VocabSize).ToArray();
        Assert.Equal(tokenizer.Decode(known, skipSpecialTokens: true), result.Text);
    }

    [Theory]
    [InlineData("{\"do_sample\": true, \"temperature\": -0.5}", "generation_config.json: temperature must be ≥ 0")]
    [InlineData("{\"do_sample\": false, \"top_p\": 1.5}", "generation_config.json: top_p must be in (0, 1]")]
    [InlineData("{\"temperature\": \"hot\"}", "generation_config.json: temperature: expected a number, found \"hot\"")]
    [InlineData("{\"do_sample\": 1}", "generation_config.json: do_sample: expected true or false, found 1")]
    [InlineData("{\"top_k\": 2.5}", "generation_config.json: top_k: expected an integer, found 2.5")]
    [InlineData("{\"max_new_tokens\": -3}", "generation_config.json: max_new_tokens must be ≥ 0")]
    [InlineData("{\"repetition_penalty\": 0}", "generation_config.json: repetition_penalty must be > 0")]
    [InlineData("{\"temperature\": ", "generation_config.json: not valid JSON")]
    [InlineData("{\"temperature\": \"\\ud800\"}", "generation_config.json: temperature: expected a number")]
    [InlineData("{\"top_k\": \"\\udc00\"}", "generation_config.json: top_k: expected an integer")]
    [InlineData("{\"do_sample\": \"\\ud800\"}", "generation_config.json: do_sample: expected true or false")]
    [InlineData("{\"top_k\": 5, \"top_k\": 6}", "generation_config.json: not valid JSON")]
    public void Bad_generation_config_values_name_the_file_and_key(string json, string message)
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("generation_config.json"), json);
        Assert.Contains(message, Assert.Throws<ModelFormatException>(() => GenerationDefaults.FromFolder(dir.Path)).Message);
    }

    [Fact]
    public void Generation_config_values_apply_when_sampling_and_nulls_mean_unset()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("generation_config.json"), """{"do_sample": true, "temperature": 0.7, "top_p": 0.9, "top_k": 20, "min_p": null, "max_new_tokens": 33}""");
        var o = GenerationDefaults.FromFolder(dir.Path);
        Assert.Equal((0.7f, 0.9f, 20, 0f, 33), (o.Temperature, o.TopP, o.TopK, o.MinP, o.MaxNewTokens));
        File.WriteAllText(dir.File("generation_config.json"), """{"temperature": 0.7, "top_k": 20, "repetition_penalty": 1.1}""");
        o = GenerationDefaults.FromFolder(dir.Path);
        Assert.Equal((0f, 1f, 0, 1.1f), (o.Temperature, o.TopP, o.TopK, o.RepetitionPenalty)); // greedy without do_sample
    }
}
