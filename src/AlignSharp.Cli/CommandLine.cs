namespace AlignSharp.Cli;

/// <summary>
/// Dispatches `alignsharp COMMAND ...` to the command that handles it, answers --help/-h for every command (from its
/// <see cref="CommandSpec"/>, before the command runs) and turns every error into one line: usage mistakes exit 2,
/// bad data or files exit 1, and anything else is reported as a bug (ALIGNSHARP_DEBUG=1 shows the stack trace).
/// </summary>
internal static class CommandLine
{
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            if (args.Length == 0)
            {
                stderr.WriteLine(HelpText.Overview());
                return 2;
            }
            if (args[0] is "--help" or "-h" or "help")
            {
                stdout.WriteLine(HelpText.Overview());
                return 0;
            }
            if (args[0] is "--version" or "-V")
            {
                stdout.WriteLine($"alignsharp {HelpText.Version}");
                return 0;
            }
            if (HelpText.Answer(args, stdout)) return 0;
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
                case "store":
                    return StoreCommand.Run(args[1..], stdout);
                case "demo":
                    // The built-in defaults equal recipes/demo.yaml, so `demo` also works outside the repository.
                    return Demo.DemoCommand.Run(File.Exists(Demo.DemoCommand.DefaultRecipe) ? Demo.DemoCommand.DefaultRecipe : null, args[1..], stdout, "demo");
                case "run":
                    return RunCommand.Run(args[1..], stdout);
                case "export":
                    return ExportCommand.Run(args[1..], stdout);
                case "serve":
                    return ServeCommand.Run(args[1..], stdout, stderr);
                default:
                    stderr.WriteLine($"alignsharp: unknown command '{args[0]}' (run `alignsharp --help` for the list)");
                    return 2;
            }
        }
        catch (HelpRequestedException e)
        {
            foreach (var line in e.Spec.Help()) stdout.WriteLine(line);
            return 0;
        }
        catch (Exception e) when (!Debug || ExitCode(e) is not null)
        {
            return Report(e, stderr);
        }
    }

    /// <summary>2 for a usage mistake, 1 for bad data or files (the library's own exceptions), null for anything else (a bug).</summary>
    internal static int? ExitCode(Exception e) => e switch
    {
        UsageException => 2,
        AlignSharp.Models.Tokenizers.TokenizerException or AlignSharp.Models.ChatTemplates.TemplateException
            or AlignSharp.Models.Checkpoints.SafetensorsException or AlignSharp.Models.Transformers.ModelFormatException
            or AlignSharp.Training.TrainingException or AlignSharp.Feedback.FeedbackException or AlignSharp.Eval.EvalException
            or IOException or UnauthorizedAccessException
            or ArgumentException or FormatException or OverflowException or System.Text.Json.JsonException => 1,
        _ => null,
    };

    /// <summary>One line on stderr and the exit code; an unexpected exception is named as a bug (exit 1).</summary>
    internal static int Report(Exception e, TextWriter stderr)
    {
        if (ExitCode(e) is { } code)
        {
            stderr.WriteLine($"alignsharp: {OneLine(e.Message)}");
            if (Debug) stderr.WriteLine(e);
            return code;
        }
        stderr.WriteLine($"alignsharp: unexpected {e.GetType().Name}: {OneLine(e.Message)} (this is a bug; ALIGNSHARP_DEBUG=1 shows the stack trace)");
        return 1;
    }

    /// <summary>ALIGNSHARP_DEBUG=1: print stack traces (and let unexpected exceptions through).</summary>
    private static bool Debug => Environment.GetEnvironmentVariable("ALIGNSHARP_DEBUG") is "1" or "true";

    /// <summary>Messages are one line; a message that spans lines (a library's, say) is joined so the report stays one line.</summary>
    private static string OneLine(string message) => string.Join(" ", message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
}

/// <summary>A mistake in the command line; reported without a stack trace.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>
/// --help reached a command's <see cref="Options"/> (a command <see cref="HelpText"/> does not list yet): the top level
/// prints the spec's help with rc 0 instead of calling --help an unknown option.
/// </summary>
internal sealed class HelpRequestedException(CommandSpec spec) : Exception($"{spec.Path} --help")
{
    public CommandSpec Spec { get; } = spec;
}

/// <summary>
/// Parses `--name value` (or `--name=value`) options and bare `--flag`s as a <see cref="CommandSpec"/> declares them,
/// rejecting unknown ones by name and values outside a declared closed set. An option may repeat (`--special A --special B`).
/// </summary>
internal sealed class Options
{
    private readonly Dictionary<string, List<string>> _values = new();
    private readonly HashSet<string> _flags = new();
    private readonly string _command;

    /// <summary>Options not (yet) declared with a <see cref="CommandSpec"/>: parsed alike, listed without descriptions.</summary>
    public Options(string[] args, string command, params string[] allowed) : this(args, command, allowed, []) { }

    /// <inheritdoc cref="Options(string[], string, string[])"/>
    public Options(string[] args, string command, string[] allowed, string[] flags)
        : this(args, new CommandSpec(command, "", "", [.. allowed.Select(a => new OptionSpec(a, "VALUE", "")), .. flags.Select(f => OptionSpec.Flag(f, ""))])) { }

    public Options(string[] args, CommandSpec spec)
    {
        _command = spec.Path;
        if (spec.AsksForHelp(args)) throw new HelpRequestedException(spec);
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (!a.StartsWith("--")) throw new UsageException($"{_command}: unexpected argument '{a}' (run `alignsharp {_command} --help` for its usage)");
            string name = a[2..];
            string? value = null;
            int eq = name.IndexOf('=');
            if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
            var option = spec.Find(name)
                ?? throw new UsageException($"{_command}: unknown option --{name} (known: {string.Join(", ", spec.Options.Select(x => "--" + x.Name))})");
            if (option.IsFlag)
            {
                if (value is not null) throw new UsageException($"{_command}: --{name} takes no value");
                _flags.Add(name);
                continue;
            }
            if (value is null)
            {
                if (i + 1 >= args.Length) throw new UsageException($"{_command}: option --{name} needs a value ({option.Value})");
                value = args[++i];
            }
            if (option.Allowed is { Length: > 0 } allowed)
            {
                value = allowed.FirstOrDefault(x => string.Equals(x, value, StringComparison.OrdinalIgnoreCase))
                    ?? throw new UsageException($"{_command}: --{name} must be one of {string.Join(" | ", allowed)} (got '{value}')");
            }
            if (!_values.TryGetValue(name, out var list)) _values[name] = list = new List<string>();
            list.Add(value);
        }
    }

    public int Int(string name, int fallback, int min = 1)
    {
        if (Value(name) is not { } s) return fallback;
        if (!int.TryParse(s, out int v) || v < min) throw new UsageException($"{_command}: --{name} must be an integer ≥ {min} (got '{s}')");
        return v;
    }

    public string? Value(string name) => _values.TryGetValue(name, out var list) ? list[^1] : null;

    public string Required(string name, string command) => Value(name) ?? throw new UsageException($"{command}: --{name} is required");

    public IReadOnlyList<string> Values(string name) => _values.TryGetValue(name, out var list) ? list : [];

    public bool Flag(string name) => _flags.Contains(name);
}
