using System.Reflection;

namespace AlignSharp.Cli;

/// <summary>
/// Every command's <see cref="CommandSpec"/> in the order `alignsharp --help` lists them, and the help answers built
/// from them: the overview, a group's subcommands (`alignsharp bench --help`) and a command's options.
/// </summary>
internal static class HelpText
{
    /// <summary>Commands with subcommands, and what the subcommand is called in their usage line.</summary>
    private static readonly (string Name, string Placeholder, string Description)[] Groups =
    [
        ("train", "<method>", "train with one of TRL's offline or online methods from a YAML recipe"),
        ("store", "<subcommand>", "the feedback store: statistics, TRL datasets from its labels, label import"),
        ("chat", "<subcommand>", "apply a chat template as transformers' apply_chat_template does"),
        ("tokenizer", "<subcommand>", "train, run and test byte-level BPE tokenizers"),
        ("model", "<subcommand>", "create and inspect Hugging Face model folders"),
        ("bench", "<benchmark>", "speed measurements; each prints its headline figure as the last line"),
        ("export", "<format>", "hand a recipe's data and settings to another tool"),
    ];

    public static IReadOnlyList<CommandSpec> Commands { get; } =
    [
        Demo.DemoCommand.DemoSpec, RunCommand.Spec,
        .. TrainCommand.Specs,
        ExportCommand.TrlSpec,
        GenerateCommand.Spec, ServeCommand.Spec,
        StoreCommand.StatsSpec, StoreCommand.ExportSpec, StoreCommand.ImportSpec,
        ChatCommand.RenderSpec, ChatCommand.EncodeSpec,
        TokenizerCommand.TrainSpec, TokenizerCommand.EncodeSpec, TokenizerCommand.DecodeSpec, TokenizerCommand.CorpusSpec,
        ModelCommand.InitSpec, ModelCommand.InfoSpec, ModelCommand.MergeSpec,
        BenchCommand.GemmSpec, BenchCommand.OpsSpec, BenchCommand.TokenizerSpec, BenchCommand.TrainSpec, BenchCommand.DecodeSpec, BenchCommand.ServeSpec, EndpointBench.Spec, GrpoBench.Spec,
    ];

    /// <summary>The assembly's informational version (the project's Version, plus the commit when the build knows it).</summary>
    public static string Version =>
        typeof(HelpText).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(HelpText).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>`alignsharp --help`: one entry per command (the train methods as one).</summary>
    public static string Overview()
    {
        var lines = new List<string>
        {
            "alignsharp — automated alignment of language models in pure .NET",
            "",
            "usage: alignsharp <command> [options]        alignsharp <command> --help shows a command's options",
            "",
            "commands:",
        };
        foreach (var spec in Commands)
        {
            if (spec.Path.StartsWith("train ") && spec != TrainCommand.Specs[0]) continue;
            string head = spec.Path.StartsWith("train ") ? $"train {string.Join("|", TrainCommand.Methods)} {spec.Synopsis}" : $"{spec.Path} {spec.Synopsis}";
            lines.Add($"  {head.TrimEnd()}");
            lines.Add($"        {(spec.Path.StartsWith("train ") ? TrainCommand.Summary : spec.Description)}");
        }
        lines.Add("  --version");
        lines.Add("        print the version");
        lines.Add("  -h, --help");
        lines.Add("        show this text");
        lines.Add("");
        lines.Add("Environment: ALIGNSHARP_THREADS sets the default worker thread count; ALIGNSHARP_DEBUG=1 prints stack traces with errors.");
        return string.Join('\n', lines);
    }

    /// <summary>The spec of the command <paramref name="args"/> name, and how many words its path takes.</summary>
    public static (CommandSpec Spec, int Words)? Find(string[] args)
    {
        if (args.Length >= 2 && Commands.FirstOrDefault(c => c.Path == $"{args[0]} {args[1]}") is { } sub) return (sub, 2);
        if (Commands.FirstOrDefault(c => c.Path == args[0]) is { } top) return (top, 1);
        return null;
    }

    /// <summary>Prints the help <paramref name="args"/> ask for, if they ask; a group with no subcommand (or -h next) gets its list.</summary>
    public static bool Answer(string[] args, TextWriter stdout)
    {
        if (Find(args) is var (spec, words))
        {
            if (!spec.AsksForHelp(args[words..])) return false;
            foreach (var line in spec.Help()) stdout.WriteLine(line);
            return true;
        }
        var group = Groups.FirstOrDefault(g => g.Name == args[0]);
        if (group.Name is null || args.Length < 2 || args[1] is not ("--help" or "-h")) return false;
        stdout.WriteLine(GroupHelp(group.Name));
        return true;
    }

    /// <summary>`alignsharp bench --help`: the group's subcommands, each with its synopsis and description.</summary>
    public static string GroupHelp(string group)
    {
        var (name, placeholder, description) = Groups.First(g => g.Name == group);
        var lines = new List<string> { $"usage: alignsharp {name} {placeholder} [options]", "", description, "", $"{placeholder.Trim('<', '>')}s:" };
        foreach (var spec in Commands.Where(c => c.Path.StartsWith(name + " ")))
        {
            lines.Add($"  {spec.Path[(name.Length + 1)..]} {spec.Synopsis}".TrimEnd());
            lines.Add($"        {spec.Description}");
        }
        lines.Add("");
        lines.Add($"alignsharp {name} {placeholder} --help shows its options");
        return string.Join('\n', lines);
    }
}
