using AlignSharp.Models.Checkpoints;
using AlignSharp.Models.Lora;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Models.Transformers;

namespace AlignSharp.Cli;

/// <summary>`alignsharp model init|info|merge`.</summary>
internal static class ModelCommand
{
    internal static readonly CommandSpec InitSpec = new("model init", "(--arch ARCH --preset NAME | --config FILE) --out DIR [options]",
        "write a randomly initialised Hugging Face model folder (config.json, model.safetensors, generation_config.json)",
        new("arch", "ARCH", "architecture; required with --preset, else checked against the config's model_type", null, ["llama", "qwen2", "gpt2"]),
        new("preset", "NAME", $"a built-in size ({string.Join(", ", ModelPresets.Names)})"),
        new("config", "FILE", "a Hugging Face config.json to initialise instead of a preset"),
        new("out", "DIR", "output folder; required"),
        new("seed", "S", "random seed of the initial weights", "0"),
        new("tokenizer", "DIR", "copy this tokenizer in and take vocab_size and the bos/eos/pad ids from it"),
        new("dtype", "TYPE", "dtype of the saved weights (computation is float32)", "f32", ["f32", "bf16", "f16"]),
        OptionSpec.Flag("force", "replace a model already in --out (refused otherwise)"));

    internal static readonly CommandSpec InfoSpec = new("model info", "DIR [--weights] [--no-check]",
        "architecture, parameter count, dtype, context length of a model folder; for a PEFT adapter folder: base model, r, alpha, targets, trainable parameters",
        OptionSpec.Flag("weights", "also list every tensor with its shape and dtype"),
        OptionSpec.Flag("no-check", "skip the check that every weight is finite (NaN/Inf)"));

    internal static readonly CommandSpec MergeSpec = new("model merge", "--adapter DIR [--model BASE] --out DIR [--dtype TYPE]",
        "fold a PEFT LoRA adapter into its base (W + s·B·A, as PEFT's merge_and_unload) and write a Hugging Face folder",
        new("adapter", "DIR", "PEFT adapter folder (adapter_config.json + adapter_model.safetensors); required"),
        new("model", "BASE", "base model folder", "adapter_config.json's base_model_name_or_path"),
        new("out", "DIR", "output folder; must not exist or be empty; required"),
        new("dtype", "TYPE", "dtype of the merged weights", "the base's", ["f32", "bf16", "f16"]));

    public static int Run(string[] args, TextWriter stdout)
    {
        if (args.Length == 0) throw new UsageException("model: name a subcommand (init, info, merge)");
        switch (args[0])
        {
            case "init": return Init(new Options(args[1..], InitSpec), stdout);
            case "info": return Info(args[1..], stdout);
            case "merge": return Merge(new Options(args[1..], MergeSpec), stdout);
            default: throw new UsageException($"model: unknown subcommand '{args[0]}' (known: init, info, merge)");
        }
    }

    internal static DType ParseDType(string? text, string cmd) => (text ?? "f32").ToLowerInvariant() switch
    {
        "f32" or "float32" => DType.F32,
        "bf16" or "bfloat16" => DType.BF16,
        "f16" or "float16" => DType.F16,
        var s => throw new UsageException($"{cmd}: --dtype must be f32, bf16 or f16 (got '{s}')"),
    };

    private static int Init(Options o, TextWriter stdout)
    {
        const string cmd = "model init";
        string outDir = o.Required("out", cmd);
        string? preset = o.Value("preset"), configFile = o.Value("config"), archText = o.Value("arch");
        if ((preset is null) == (configFile is null)) throw new UsageException($"{cmd}: give exactly one of --preset NAME ({string.Join(", ", ModelPresets.Names)}) and --config FILE");
        ModelConfig config;
        if (preset is not null)
        {
            var arch = (archText ?? throw new UsageException($"{cmd}: --arch llama|qwen2|gpt2 is required with --preset")).ToLowerInvariant() switch
            {
                "llama" => Architecture.Llama, "qwen2" => Architecture.Qwen2, "gpt2" => Architecture.Gpt2,
                var s => throw new UsageException($"{cmd}: --arch must be llama, qwen2 or gpt2 (got '{s}')"),
            };
            if (!ModelPresets.Names.Contains(preset, StringComparer.OrdinalIgnoreCase))
                throw new UsageException($"{cmd}: unknown preset '{preset}' (known: {string.Join(", ", ModelPresets.Names)})");
            config = ModelPresets.Get(preset, arch);
        }
        else
        {
            if (!File.Exists(configFile)) throw new UsageException($"{cmd}: --config {configFile}: file not found");
            config = ModelConfig.FromJson(File.ReadAllText(configFile!), configFile!);
            if (archText is not null && !string.Equals(archText, config.Architecture.ToString(), StringComparison.OrdinalIgnoreCase))
                throw new UsageException($"{cmd}: --arch {archText} disagrees with model_type in {configFile}");
        }
        Tokenizer? tokenizer = null;
        TokenizerConfig? tokenizerConfig = null;
        if (o.Value("tokenizer") is { } tokDir)
        {
            tokenizer = Tokenizer.Load(tokDir);
            string folder = Directory.Exists(tokDir) ? tokDir : Path.GetDirectoryName(Path.GetFullPath(tokDir))!;
            tokenizerConfig = TokenizerConfig.Load(folder);
            int? Id(string? token) => token is null ? null : tokenizer.TokenToId(token);
            config = config with
            {
                VocabSize = tokenizer.VocabSize,
                BosTokenId = Id(tokenizerConfig.BosToken),
                EosTokenIds = Id(tokenizerConfig.EosToken) is { } eos ? [eos] : [],
                PadTokenId = Id(tokenizerConfig.PadToken),
            };
        }
        // Replacing a model is explicit, and a tokenizer left in the folder must still fit the new vocabulary.
        bool holdsModel = new[] { "config.json", SafetensorsCheckpoint.SingleFileName, SafetensorsCheckpoint.IndexFileName }.Any(f => File.Exists(Path.Combine(outDir, f)));
        if (holdsModel && !o.Flag("force"))
            throw new UsageException($"{cmd}: {outDir} already holds a model (config.json / model.safetensors); pass --force to replace it, or choose another --out");
        if (tokenizer is null) HuggingFaceFolder.CheckTokenizerFits(outDir, config);
        var dtype = ParseDType(o.Value("dtype"), cmd);
        using var model = TransformerModel.Create(config, (ulong)o.Int("seed", 0, 0));
        HuggingFaceFolder.Save(model, outDir, dtype);
        if (tokenizer is not null)
        {
            tokenizer.Save(outDir);
            tokenizerConfig!.Save(outDir, tokenizer);
        }
        stdout.WriteLine($"wrote {config.Architecture} ({model.ParameterCount / 1e6:F2}M parameters) to {outDir}");
        return 0;
    }

    private static int Info(string[] args, TextWriter stdout)
    {
        const string cmd = "model info";
        if (args.Length == 0 || args[0].StartsWith("--")) throw new UsageException($"{cmd}: give the model folder: alignsharp model info DIR [--weights]");
        string dir = args[0];
        var o = new Options(args[1..], InfoSpec);
        if (PeftAdapterConfig.IsAdapterFolder(dir)) return AdapterInfo(dir, o.Flag("weights"), stdout);
        string configPath = Path.Combine(dir, "config.json");
        if (!File.Exists(configPath)) throw new UsageException($"{cmd}: {dir} has no config.json (nor {PeftAdapterConfig.FileName}: it is neither a model nor an adapter folder)");
        var config = ModelConfig.FromJson(File.ReadAllText(configPath), configPath).Validate(configPath);
        if (!o.Flag("no-check")) HuggingFaceFolder.CheckWeightsFinite(dir);
        using var checkpoint = SafetensorsCheckpoint.Open(dir);
        long parameters = checkpoint.Names.Where(n => WeightLayout.Canonical(config, n) is not null).Sum(n => checkpoint.Info(n).ElementCount);
        var dtypes = checkpoint.Names.Select(n => checkpoint.Info(n).DType.Name()).Distinct();
        stdout.WriteLine($"architecture: {config.Architecture}");
        stdout.WriteLine($"parameters: {parameters:N0} ({parameters / 1e6:F2}M)");
        stdout.WriteLine($"dtype: {string.Join(", ", dtypes)} (config torch_dtype {config.TorchDtype}; computed in float32)");
        stdout.WriteLine($"context length: {config.MaxPositions}");
        stdout.WriteLine($"layers: {config.NumLayers}, hidden: {config.HiddenSize}, intermediate: {config.IntermediateSize}, heads: {config.NumHeads}, kv heads: {config.NumKvHeads}, head dim: {config.HeadDim}");
        stdout.WriteLine($"vocabulary: {config.VocabSize}, tied embeddings: {config.TieWordEmbeddings.ToString().ToLowerInvariant()}");
        stdout.WriteLine($"files: {string.Join(", ", checkpoint.Files.Select(Path.GetFileName))}");
        if (o.Flag("weights"))
            foreach (var name in checkpoint.Names) stdout.WriteLine($"  {name} {checkpoint.Info(name).ShapeText} {checkpoint.Info(name).DType.Name()}");
        return 0;
    }

    /// <summary>`model info ADAPTER_DIR`: what a PEFT LoRA adapter adapts, read from its two files (the base is not loaded).</summary>
    private static int AdapterInfo(string dir, bool listWeights, TextWriter stdout)
    {
        var config = PeftAdapterConfig.Read(dir);
        string weightsPath = Path.Combine(dir, PeftFormat.WeightsFile);
        if (!File.Exists(weightsPath)) throw new ModelFormatException($"{dir}: no {PeftFormat.WeightsFile} beside {PeftAdapterConfig.FileName}");
        using var file = SafetensorsFile.Open(weightsPath);
        var modules = PeftFormat.ReadModules(file, config);
        var lora = config.Lora;
        long parameters = modules.Sum(m => m.ParameterCount);
        string baseText = config.BaseModelNameOrPath ?? "(not set: give it with --model BASE)";
        try { if (config.BaseModelNameOrPath is { } name && config.ResolveBaseModel(null, "") is var found) baseText += found == name ? " (found)" : $" (found: {found})"; }
        catch (ModelFormatException) { baseText += " (not a folder here: give the base with --model BASE)"; }
        stdout.WriteLine("adapter: LoRA (PEFT)");
        stdout.WriteLine($"base model: {baseText}");
        stdout.WriteLine($"r: {lora.Rank}, alpha: {lora.Alpha:G}, scaling: {lora.Scale:G} ({(lora.UseRsLora ? "alpha/sqrt(r)" : "alpha/r")}), dropout: {lora.Dropout:G}");
        stdout.WriteLine($"rslora: {lora.UseRsLora.ToString().ToLowerInvariant()}");
        string targets = lora.TargetRegex ?? string.Join(", ", lora.TargetModules ?? [.. modules.Select(m => m.Module[(m.Module.LastIndexOf('.') + 1)..]).Distinct().Order()]);
        stdout.WriteLine($"targets: {targets} ({modules.Count} modules)");
        stdout.WriteLine($"trainable parameters: {parameters:N0} ({parameters / 1e6:F3}M)");
        stdout.WriteLine($"dtype: {string.Join(", ", file.Tensors.Values.Select(t => t.DType.Name()).Distinct())}");
        stdout.WriteLine($"files: {PeftAdapterConfig.FileName}, {PeftFormat.WeightsFile}");
        if (listWeights)
            foreach (var (name, info) in file.Tensors.OrderBy(t => t.Key, StringComparer.Ordinal)) stdout.WriteLine($"  {name} {info.ShapeText} {info.DType.Name()}");
        return 0;
    }

    /// <summary>`model merge --adapter DIR [--model BASE] --out DIR [--dtype]`: base + adapter as one Hugging Face folder.</summary>
    private static int Merge(Options o, TextWriter stdout)
    {
        const string cmd = "model merge";
        string adapterDir = o.Required("adapter", cmd);
        string outDir = o.Required("out", cmd);
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
            throw new UsageException($"{cmd}: --out {outDir} already exists and is not empty; give a new folder");
        var config = PeftAdapterConfig.Read(adapterDir);
        string baseDir = config.ResolveBaseModel(o.Value("model"), "give the base model folder with --model BASE");
        DType? dtype = o.Value("dtype") is { } d ? ParseDType(d, cmd) : null;
        var (modules, written) = AdapterMerge.Save(baseDir, adapterDir, outDir, dtype);
        stdout.WriteLine($"merged {modules} LoRA modules (r {config.Lora.Rank}, scaling {config.Lora.Scale:G}) of {adapterDir} into {baseDir}; wrote {written.Name()} to {outDir}");
        return 0;
    }
}
