using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Models.Transformers;

namespace AlignSharp.Training.Tests.Methods;

/// <summary>A tiny Llama folder (qwen2 fixture tokenizer, ChatML template) and the example datasets, under a temp folder.</summary>
internal sealed class TinyModel : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "alignsharp-methods-" + Guid.NewGuid().ToString("N"));

    public TinyModel() => Directory.CreateDirectory(Root);

    public static string Examples(string name) => Path.Combine(AppContext.BaseDirectory, "Examples", name);

    /// <summary>The model folder, created on first use.</summary>
    public string Folder
    {
        get
        {
            string folder = Path.Combine(Root, "tiny");
            if (Directory.Exists(folder)) return folder;
            var tokenizer = Tokenizer.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers", "qwen2"));
            var config = ModelPresets.Get("tiny", Architecture.Llama) with { VocabSize = tokenizer.VocabSize, EosTokenIds = [tokenizer.TokenToId("<|im_end|>")!.Value] };
            using (var model = TransformerModel.Create(config, seed: 1)) HuggingFaceFolder.Save(model, folder);
            tokenizer.Save(folder);
            new TokenizerConfig { EosToken = "<|im_end|>", ChatTemplate = BuiltInTemplates.GetSource("chatml") }.Save(folder, tokenizer);
            return folder;
        }
    }

    public string In(string name) => Path.Combine(Root, name);

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
