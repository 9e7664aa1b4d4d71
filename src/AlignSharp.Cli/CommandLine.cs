namespace AlignSharp.Cli;

/// <summary>Dispatches `alignsharp COMMAND ...` to the command that handles it.</summary>
internal static class CommandLine
{
    private const string Usage = """
        alignsharp — automated alignment of language models in pure .NET

        usage: alignsharp <command> [options]

        commands:
          bench gemm [--m M --n N --k K] [--threads T] [--repeat R] [--compare openblas]
                                 time single-precision matrix multiply (SGEMM); with
                                 --compare, also time OpenBLAS through numpy in the same run
                                 (needs python3-numpy and libopenblas0-pthread) and print the ratio
          bench ops [--threads T] time a transformer-sized forward+backward of the core ops
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
    }
}

/// <summary>A mistake in the command line; reported without a stack trace.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>Parses `--name value` options and rejects unknown ones by name.</summary>
internal sealed class Options
{
    private readonly Dictionary<string, string> _values = new();

    public Options(string[] args, string command, params string[] allowed)
    {
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (!a.StartsWith("--")) throw new UsageException($"{command}: unexpected argument '{a}'");
            string name = a[2..], value;
            int eq = name.IndexOf('=');
            if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
            else
            {
                if (i + 1 >= args.Length) throw new UsageException($"{command}: option --{name} needs a value");
                value = args[++i];
            }
            if (!allowed.Contains(name)) throw new UsageException($"{command}: unknown option --{name} (known: {string.Join(", ", allowed.Select(x => "--" + x))})");
            _values[name] = value;
        }
    }

    public int Int(string name, int fallback, int min = 1)
    {
        if (!_values.TryGetValue(name, out var s)) return fallback;
        if (!int.TryParse(s, out int v) || v < min) throw new UsageException($"--{name} must be an integer ≥ {min} (got '{s}')");
        return v;
    }

    public string? Value(string name) => _values.TryGetValue(name, out var s) ? s : null;
}
