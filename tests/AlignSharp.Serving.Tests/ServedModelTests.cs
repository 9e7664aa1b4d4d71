using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Generation;
using AlignSharp.Models.Lora;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using OpenAI.Chat;

namespace AlignSharp.Serving.Tests;

/// <summary>Loading what `alignsharp serve` serves from folders: a Hugging Face model folder, optionally with a PEFT adapter.</summary>
public sealed class ServedModelTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-serve-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    /// <summary>A tiny model folder with the fixture tokenizer (its tokenizer_config.json names eos &lt;|im_end|&gt; and has no chat template).</summary>
    private string SaveModel(string name)
    {
        string dir = Path.Combine(_dir, name);
        using var model = TinyServer.CreateModel();
        HuggingFaceFolder.Save(model, dir);
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers", "qwen2")))
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        return dir;
    }

    private static async Task<string> AskAsync(ServedModel served)
    {
        await using var server = await OpenAiCompatibleServer.StartAsync(new ServerOptions { Port = 0 }, served);
        var client = new ChatClient(served.ModelId, new System.ClientModel.ApiKeyCredential("unused"), new OpenAI.OpenAIClientOptions { Endpoint = server.ApiBase });
        return (await client.CompleteChatAsync([new UserChatMessage("Hello!")], new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 10 })).Value.Content[0].Text;
    }

    private static string Reference(TransformerModel model, ServedModel served) =>
        new Generator(model, served.Tokenizer).Generate([TinyServer.Prompt("Hello!")],
            new GenerationOptions { Temperature = 0, MaxNewTokens = 10, StopTokenIds = served.StopTokenIds })[0].Text;

    [Fact]
    public async Task A_model_folder_is_served_under_its_name_with_the_chatml_fallback_and_its_eos()
    {
        string dir = SaveModel("my-model");
        using var served = ServedModel.FromFolder(dir, null, maxBatch: 4, out bool fallback);
        Assert.True(fallback);
        Assert.Equal("my-model", served.ModelId);
        Assert.Equal(4, served.Batcher.MaxBatch);
        Assert.Contains(TinyServer.Tokenizer.TokenToId("<|im_end|>")!.Value, served.StopTokenIds);
        Assert.Equal(Reference(served.Batcher.Model, served), await AskAsync(served));
    }

    [Fact]
    public async Task An_adapter_is_folded_into_the_base_and_named_after_its_folder()
    {
        string baseDir = SaveModel("base");
        string adapterDir = Path.Combine(_dir, "my-adapter");
        using (var baseModel = HuggingFaceFolder.Load(baseDir))
        using (var adapters = LoraAdapters.Create(baseModel, new LoraConfig(Rank: 4, Alpha: 8), seed: 1))
        {
            // A trained adapter: B is no longer zero, so the merged model answers differently from its base.
            var rng = new Rng(11);
            foreach (var (_, b) in adapters.Modules.Values) rng.FillNormal(b.Span, 0, 0.5f);
            PeftFormat.Save(adapters, adapterDir, baseDir);
        }
        using var plain = ServedModel.FromFolder(baseDir, null, 4, out _);
        using var adapted = ServedModel.FromFolder(baseDir, adapterDir, 4, out _);
        Assert.Equal("my-adapter", adapted.ModelId);
        using var merged = AdapterMerge.LoadMerged(baseDir, adapterDir);
        string answer = await AskAsync(adapted);
        Assert.Equal(Reference(merged, adapted), answer);
        Assert.NotEqual(await AskAsync(plain), answer);
    }

    [Fact]
    public void A_missing_folder_is_named()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => ServedModel.FromFolder(Path.Combine(_dir, "nope"), null, 4, out _));
        Assert.Contains("nope", e.Message);
    }

    [Fact]
    public async Task The_port_in_use_is_a_clear_io_error()
    {
        await using var s = await TinyServer.StartAsync();
        var e = await Assert.ThrowsAsync<IOException>(() => OpenAiCompatibleServer.StartAsync(
            new ServerOptions { Host = "127.0.0.1", Port = s.Server.BaseAddress.Port }, s.Server.Model));
        Assert.Contains($"127.0.0.1:{s.Server.BaseAddress.Port}", e.Message);
        Assert.Contains("already in use", e.Message);
    }
}
