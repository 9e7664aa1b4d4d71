using System.Globalization;
using System.Text.Json;
using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Generation;
using AlignSharp.Models.Lora;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Models.Transformers;

namespace AlignSharp.Cli;

/// <summary>`alignsharp generate`: sample a continuation from a model folder, streaming the text.</summary>
internal static class GenerateCommand
{
    internal static readonly CommandSpec Spec = new("generate", "(--model DIR | --adapter DIR) (--prompt TEXT | --prompt-ids \"1 2 3\") [options]",
        "continue a prompt (KV-cached), streaming the text; sampling defaults come from the folder's generation_config.json (greedy unless do_sample)",
        new("model", "DIR", "Hugging Face model folder; required unless --adapter names its base"),
        new("adapter", "DIR", "PEFT LoRA adapter folder folded into the base's weights; the base is --model, else adapter_config.json's base_model_name_or_path"),
        new("prompt", "TEXT", "the prompt text (needs the folder's tokenizer.json)"),
        new("prompt-ids", "\"1 2 3\"", "the prompt as token ids"),
        OptionSpec.Flag("chat", "wrap --prompt in a user turn with the folder's chat template (chatml when it has none, with a note on stderr)"),
        new("max-new-tokens", "N", "most tokens to generate", "generation_config.json, else 128"),
        new("temperature", "T", "sampling temperature ≥ 0; 0 = greedy", "generation_config.json"),
        new("top-p", "P", "nucleus sampling in (0, 1]: keep the smallest set of tokens with this much probability; 1 = off", "generation_config.json"),
        new("top-k", "K", "keep the K most likely tokens; 0 = off", "generation_config.json"),
        new("min-p", "P", "in [0, 1]: drop tokens below this fraction of the top token's probability; 0 = off", "generation_config.json"),
        new("repetition-penalty", "R", "> 0: divide the logits of tokens already seen by R (CTRL's penalty); 1 = off", "generation_config.json"),
        new("seed", "S", "sampling seed", "0"),
        new("stop", "TEXT", "stop when the text ends with this (repeat for several)"),
        OptionSpec.Flag("print-ids", "end with a line of the generated token ids (always printed when the folder has no tokenizer)"),
        OptionSpec.Flag("no-check", "skip the check that every weight is finite (NaN/Inf) when loading"));

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        const string cmd = "generate";
        var o = new Options(args, Spec);
        // --adapter DIR: a PEFT LoRA adapter on the base (--model, else its adapter_config.json's base), folded into the weights.
        string? adapterDir = o.Value("adapter");
        string dir = adapterDir is null ? o.Required("model", cmd) : PeftAdapterConfig.Read(adapterDir).ResolveBaseModel(o.Value("model"), "give the base model folder with --model BASE");
        string? prompt = o.Value("prompt"), promptIds = o.Value("prompt-ids");
        if ((prompt is null) == (promptIds is null)) throw new UsageException($"{cmd}: give exactly one of --prompt TEXT and --prompt-ids \"1 2 3\"");
        bool checkFinite = !o.Flag("no-check");
        using var model = adapterDir is null ? HuggingFaceFolder.Load(dir, checkFinite) : AdapterMerge.LoadMerged(dir, adapterDir, checkFinite);
        string textDir = adapterDir is null ? dir : AdapterMerge.TokenizerFolder(dir, adapterDir);
        Tokenizer? tokenizer = File.Exists(Path.Combine(textDir, "tokenizer.json")) ? Tokenizer.Load(textDir) : null;

        int[] ids;
        if (promptIds is not null) ids = TokenizerCommand.ParseIds(promptIds, cmd);
        else
        {
            if (tokenizer is null) throw new UsageException($"{cmd}: {textDir} has no tokenizer.json; pass --prompt-ids instead of --prompt");
            if (o.Flag("chat"))
            {
                var template = ChatEncoder.FromFolderOrFallback(textDir, out bool fallback);
                if (fallback) stderr.WriteLine($"alignsharp: note: {ChatEncoder.FallbackNote(textDir)}");
                var messages = JsonSerializer.SerializeToElement(new[] { new { role = "user", content = prompt } });
                ids = ChatEncoder.Encode(tokenizer, template, messages, ChatEncoder.OptionsFromFolder(textDir, addGenerationPrompt: true)).Ids;
            }
            else ids = tokenizer.Encode(prompt!);
        }
        if (ids.Length == 0) throw new UsageException($"{cmd}: the prompt has no tokens");

        var defaults = GenerationDefaults.FromFolder(dir);
        float F(string key, float fallback) => o.Value(key) is { } s
            ? float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) ? v : throw new UsageException($"--{key} must be a number (got '{s}')")
            : fallback;
        var options = defaults with
        {
            MaxNewTokens = o.Int("max-new-tokens", defaults.MaxNewTokens, 0),
            Temperature = F("temperature", defaults.Temperature),
            TopP = F("top-p", defaults.TopP),
            TopK = o.Int("top-k", defaults.TopK, 0),
            MinP = F("min-p", defaults.MinP),
            RepetitionPenalty = F("repetition-penalty", defaults.RepetitionPenalty),
            Seed = (ulong)o.Int("seed", 0, 0),
            StopStrings = o.Values("stop").ToList(),
        };
        var generator = new Generator(model, tokenizer);
        try { generator.Validate([ids], options); }
        catch (GenerationOptionException e) { throw new UsageException($"{cmd}: {OptionMessage(e, promptIds is not null)}"); }
        if (o.Flag("print-ids") || tokenizer is null)
        {
            var result = generator.Generate([ids], options)[0];
            stdout.Write(result.Text);
            stdout.WriteLine();
            if (o.Flag("print-ids") || tokenizer is null) stdout.WriteLine(string.Join(' ', result.Tokens));
            return 0;
        }
        // Stream the text as it is generated.
        var stream = generator.StreamAsync(ids, options).GetAsyncEnumerator();
        try
        {
            while (stream.MoveNextAsync().AsTask().GetAwaiter().GetResult())
            {
                stdout.Write(stream.Current);
                stdout.Flush();
            }
        }
        finally { stream.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        stdout.WriteLine();
        return 0;
    }

    /// <summary>The library's message with the option named as the command line spells it (top_p → --top-p).</summary>
    private static string OptionMessage(GenerationOptionException e, bool promptFromIds) => e.Option is { } key && e.Message.StartsWith(key, StringComparison.Ordinal)
        ? (key == "stop_strings" ? "--stop" : "--" + key.Replace('_', '-')) + e.Message[key.Length..]
        : (promptFromIds ? "--prompt-ids: " : "--prompt: ") + e.Message;
}
