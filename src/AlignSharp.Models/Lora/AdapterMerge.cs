using AlignSharp.Models.Checkpoints;
using AlignSharp.Models.Transformers;

namespace AlignSharp.Models.Lora;

/// <summary>
/// A base model plus a PEFT LoRA adapter as one model: W' = W + s·B·A folded into every adapted weight
/// (<see cref="LoraAdapters.MergeInto"/>), in memory for generation or saved as a plain Hugging Face folder that
/// needs neither the adapter nor PEFT (PEFT's <c>merge_and_unload()</c> + <c>save_pretrained</c>).
/// </summary>
public static class AdapterMerge
{
    /// <summary>Tokenizer and chat-template files that go with a model folder.</summary>
    private static readonly string[] TokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja", "chat_template.json"];

    /// <summary>The folder whose tokenizer goes with the adapter: the adapter's own (training writes one), else the base's.</summary>
    public static string TokenizerFolder(string baseFolder, string adapterFolder) =>
        File.Exists(Path.Combine(adapterFolder, "tokenizer.json")) ? adapterFolder : baseFolder;

    /// <summary>Loads <paramref name="baseFolder"/> and folds the adapter of <paramref name="adapterFolder"/> into its weights.</summary>
    public static TransformerModel LoadMerged(string baseFolder, string adapterFolder, bool checkFinite = true)
    {
        var model = HuggingFaceFolder.Load(baseFolder, checkFinite);
        try
        {
            using var adapters = PeftFormat.Load(adapterFolder, model);
            adapters.MergeInto(model);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The dtype most of a checkpoint's weights are stored in (what a merge writes back by default).</summary>
    public static DType StoredDType(string modelFolder)
    {
        using var checkpoint = SafetensorsCheckpoint.Open(modelFolder);
        return checkpoint.Names.Select(n => checkpoint.Info(n).DType).Where(d => d.IsWritableFloat())
            .GroupBy(d => d).OrderByDescending(g => g.Count()).Select(g => g.Key).DefaultIfEmpty(DType.F32).First();
    }

    /// <summary>
    /// Writes base + adapter, merged, to <paramref name="outFolder"/> as a Hugging Face folder in <paramref name="dtype"/>
    /// (default: the base's), with the tokenizer files (<see cref="TokenizerFolder"/>) and the base's
    /// generation_config.json. The folder appears complete or not at all: it is written beside and then renamed.
    /// </summary>
    /// <returns>The merged model's summary: modules merged, dtype written.</returns>
    public static (int Modules, DType DType) Save(string baseFolder, string adapterFolder, string outFolder, DType? dtype = null)
    {
        var written = dtype ?? StoredDType(baseFolder);
        string full = Path.GetFullPath(outFolder);
        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any())
            throw new IOException($"{outFolder}: already exists and is not empty; merge into a new folder");
        string staging = full.TrimEnd(Path.DirectorySeparatorChar) + ".partial-" + Guid.NewGuid().ToString("N")[..8];
        int modules;
        try
        {
            using (var model = HuggingFaceFolder.Load(baseFolder))
            {
                using var adapters = PeftFormat.Load(adapterFolder, model);
                modules = adapters.Modules.Count;
                adapters.MergeInto(model);
                HuggingFaceFolder.Save(model, staging, written);
            }
            string tokenizerFolder = TokenizerFolder(baseFolder, adapterFolder);
            foreach (var file in TokenizerFiles)
                if (File.Exists(Path.Combine(tokenizerFolder, file))) File.Copy(Path.Combine(tokenizerFolder, file), Path.Combine(staging, file), overwrite: true);
            // The base's generation defaults (sampling settings, eos ids) hold for the merged model too.
            if (File.Exists(Path.Combine(baseFolder, "generation_config.json")))
                File.Copy(Path.Combine(baseFolder, "generation_config.json"), Path.Combine(staging, "generation_config.json"), overwrite: true);
            if (Directory.Exists(full)) Directory.Delete(full); // empty (callers refuse a non-empty one)
            Directory.Move(staging, full);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
        return (modules, written);
    }
}
