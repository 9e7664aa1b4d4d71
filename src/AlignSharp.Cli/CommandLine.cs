namespace AlignSharp.Cli;

/// <summary>Dispatches `alignsharp COMMAND ...` to the command that handles it.</summary>
internal static class CommandLine
{
    private const string Usage = """
        alignsharp — automated alignment of language models in pure .NET

        usage: alignsharp <command> [options]

        commands:
          demo [--quick] [--resume] [--set key=value ...]
                                 the main job: train a tiny assistant on a generated world, then align it
                                 with automated signals (constitution + verifiers, DPO) and report before/after
          run RECIPE [--quick] [--resume] [--set key=value ...]
                                 run a demo-style recipe (recipes/demo.yaml; set model: to a HF folder)
          bench gemm [--m M --n N --k K] [--threads T] [--repeat R] [--compare openblas]
                                 time single-precision matrix multiply (SGEMM); with
                                 --compare, also time OpenBLAS through numpy in the same run
                                 (needs python3-numpy and libopenblas0-pthread) and print the ratio
          bench ops [--threads T] time a transformer-sized forward+backward of the core ops
          bench tokenizer [--mb N] [--input FILE] [--compare node]
                                 train an 8k byte-level BPE and time encoding (MB/s); with
                                 --compare, time @huggingface/tokenizers and tiktoken under node
          tokenizer train --input FILE --vocab-size N --out DIR [--special TOKEN ...]
                          [--style llama3|qwen2|gpt2] [--bos TOKEN] [--eos TOKEN] [--min-frequency F]
                          [--chat-template FILE|NAME]
                                 train a byte-level BPE; writes tokenizer.json + tokenizer_config.json
          tokenizer encode --tokenizer PATH (--text TEXT | --input FILE) [--no-special-tokens]
                                 print token ids, one line per input line
          tokenizer decode --tokenizer PATH --ids "1 2 3" [--skip-special-tokens]
                                 print the decoded text exactly (no newline added)
          tokenizer corpus --out FILE [--mb N] [--seed S]
                                 write a synthetic mixed-script text corpus
          chat render (--tokenizer DIR | --template FILE|NAME) --messages FILE.json [--add-generation-prompt]
                                 print the conversation rendered by the chat template, exactly
                                 (NAME: a built-in template, e.g. chatml, llama3, mistral, zephyr)
          chat encode --tokenizer DIR [--template FILE|NAME] --messages FILE.json [--add-generation-prompt]
                                 print the token ids, then the assistant-token mask (1 = assistant)
          model init --arch llama|qwen2|gpt2 (--preset NAME | --config FILE) --out DIR [--seed S]
                     [--tokenizer DIR] [--dtype f32|bf16|f16]
                                 write a randomly initialised Hugging Face model folder
                                 (presets: tiny, small, bench-decode, bench-small)
          model info DIR [--weights]
                                 architecture, parameter count, dtype, context length; for a PEFT
                                 adapter folder: base model, r, alpha, targets, trainable parameters
          model merge --adapter DIR [--model BASE] --out DIR [--dtype f32|bf16|f16]
                                 fold a LoRA adapter into its base (W + s·B·A): a Hugging Face folder
          generate --model DIR [--adapter DIR] (--prompt TEXT | --prompt-ids "1 2 3") [--chat] [--max-new-tokens N]
                   [--temperature T] [--top-p P] [--top-k K] [--min-p P] [--repetition-penalty R]
                   [--seed S] [--stop TEXT ...] [--print-ids]
                                 continue a prompt (KV-cached), streaming the text; defaults from
                                 generation_config.json (greedy unless do_sample); --print-ids ends
                                 with the generated ids (always printed when the model has no tokenizer)
          train sft|rm|dpo|kto|orpo|simpo --config FILE.yaml [--set key=value ...] [--help]
                                 train on a TRL-format JSONL dataset; --help lists every key with its
                                 default; checkpoints, metrics.jsonl and TensorBoard logs go to output_dir
          bench train [--steps N] [--threads T] [--compare-torch SCRIPT]
                                 AdamW training steps of the bench-small GPT-2; last line tokens/s
                                 (SCRIPT: the PyTorch reference torch_gpt2.py, run in the same command)
          bench decode [--batch B] [--new-tokens N] [--threads T]
                                 greedy decoding speed of the bench-decode Llama; last line tokens/s
          --help                 show this text

        Environment: ALIGNSHARP_THREADS sets the default worker thread count.
        """;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
            {
                stdout.WriteLine(Usage);
                return args.Length == 0 ? 1 : 0;
            }
            switch (args[0])
            {
                case "bench":
                    return BenchCommand.Run(args[1..], stdout);
                case "tokenizer":
                    return TokenizerCommand.Run(args[1..], stdout);
                case "chat":
                    return ChatCommand.Run(args[1..], stdout, stderr);
                case "model":
                    return ModelCommand.Run(args[1..], stdout);
                case "generate":
                    return GenerateCommand.Run(args[1..], stdout, stderr);
                case "train":
                    return TrainCommand.Run(args[1..], stdout);
                case "demo":
                    // The built-in defaults equal recipes/demo.yaml, so `demo` also works outside the repository.
                    return Demo.DemoCommand.Run(File.Exists(Demo.DemoCommand.DefaultRecipe) ? Demo.DemoCommand.DefaultRecipe : null, args[1..], stdout, "demo");
                case "run":
                    if (args.Length < 2 || args[1].StartsWith("--")) throw new UsageException("run: give a recipe: alignsharp run recipes/demo.yaml [--set key=value ...]");
                    return Demo.DemoCommand.Run(args[1], args[2..], stdout, "run");
                default:
                    stderr.WriteLine($"alignsharp: unknown command '{args[0]}' (run `alignsharp --help` for the list)");
                    return 2;
            }
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"alignsharp: {e.Message}");
            return 2;
        }
        catch (Exception e) when (e is AlignSharp.Models.Tokenizers.TokenizerException or AlignSharp.Models.ChatTemplates.TemplateException
                                       or AlignSharp.Models.Checkpoints.SafetensorsException
                                       or AlignSharp.Models.Transformers.ModelFormatException or AlignSharp.Training.TrainingException
                                       or IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"alignsharp: {e.Message}");
            return 1;
        }
    }
}

/// <summary>A mistake in the command line; reported without a stack trace.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>
/// Parses `--name value` (or `--name=value`) options and bare `--flag`s, rejecting unknown ones by name.
/// An option may repeat (`--special A --special B`).
/// </summary>
internal sealed class Options
{
    private readonly Dictionary<string, List<string>> _values = new();
    private readonly HashSet<string> _flags = new();

    public Options(string[] args, string command, params string[] allowed) : this(args, command, allowed, []) { }

    public Options(string[] args, string command, string[] allowed, string[] flags)
    {
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (!a.StartsWith("--")) throw new UsageException($"{command}: unexpected argument '{a}'");
            string name = a[2..];
            string? value = null;
            int eq = name.IndexOf('=');
            if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
            if (flags.Contains(name))
            {
                if (value is not null) throw new UsageException($"{command}: --{name} takes no value");
                _flags.Add(name);
                continue;
            }
            if (!allowed.Contains(name))
                throw new UsageException($"{command}: unknown option --{name} (known: {string.Join(", ", allowed.Concat(flags).Select(x => "--" + x))})");
            if (value is null)
            {
                if (i + 1 >= args.Length) throw new UsageException($"{command}: option --{name} needs a value");
                value = args[++i];
            }
            if (!_values.TryGetValue(name, out var list)) _values[name] = list = new List<string>();
            list.Add(value);
        }
    }

    public int Int(string name, int fallback, int min = 1)
    {
        if (Value(name) is not { } s) return fallback;
        if (!int.TryParse(s, out int v) || v < min) throw new UsageException($"--{name} must be an integer ≥ {min} (got '{s}')");
        return v;
    }

    public string? Value(string name) => _values.TryGetValue(name, out var list) ? list[^1] : null;

    public string Required(string name, string command) => Value(name) ?? throw new UsageException($"{command}: --{name} is required");

    public IReadOnlyList<string> Values(string name) => _values.TryGetValue(name, out var list) ? list : [];

    public bool Flag(string name) => _flags.Contains(name);
}
