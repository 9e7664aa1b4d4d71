namespace AlignSharp.Cli;

/// <summary>
/// One option of a command, the single definition that both parsing (<see cref="Options"/>) and --help read.
/// <paramref name="Value"/> is the placeholder of the value (<c>N</c>, <c>FILE</c>); null makes a bare flag.
/// <paramref name="Default"/> is shown as written; <paramref name="Allowed"/> is a closed set, checked when parsed
/// (case-insensitive) and listed lower case as a recipe spells it.
/// </summary>
internal sealed record OptionSpec(string Name, string? Value, string Description, string? Default = null, string[]? Allowed = null)
{
    public bool IsFlag => Value is null;

    /// <summary>A bare <c>--name</c> switch.</summary>
    public static OptionSpec Flag(string name, string description) => new(name, null, description);

    /// <summary>"--name VALUE" as the help column shows it.</summary>
    public string Head => IsFlag ? $"--{Name}" : $"--{Name} {Value}";

    /// <summary>The description with the default and the allowed values, on one line.</summary>
    public string Text
    {
        get
        {
            var notes = new List<string>();
            if (Allowed is { Length: > 0 }) notes.Add(string.Join(" | ", Allowed));
            if (Default is not null) notes.Add($"default: {Default}");
            return notes.Count == 0 ? Description : $"{Description} ({string.Join("; ", notes)})";
        }
    }
}

/// <summary>
/// A command or subcommand (<paramref name="Path"/>: "tokenizer train"): what it takes (<paramref name="Synopsis"/>,
/// positional arguments and the required options), what it does, and its options. <see cref="Details"/> adds sections
/// to --help that are not options (the recipe keys of train and demo).
/// </summary>
internal sealed record CommandSpec(string Path, string Synopsis, string Description, params OptionSpec[] Options)
{
    public Func<IEnumerable<string>>? Details { get; init; }

    /// <summary>The --help text: usage line, description, one line per option, then the details.</summary>
    public IEnumerable<string> Help()
    {
        yield return $"usage: alignsharp {Path}{(Synopsis.Length > 0 ? " " + Synopsis : "")}";
        yield return "";
        yield return Description;
        yield return "";
        yield return "options:";
        var rows = Options.Select(o => (Head: o.Head, Text: o.Text)).Append((Head: "-h, --help", Text: "show this help")).ToList();
        int width = Math.Min(30, rows.Max(r => r.Head.Length) + 2);
        foreach (var (head, text) in rows)
            yield return head.Length + 2 > width ? $"  {head}\n  {new string(' ', width)}{text}" : $"  {head.PadRight(width)}{text}";
        if (Details is null) yield break;
        yield return "";
        foreach (var line in Details()) yield return line;
    }

    public OptionSpec? Find(string name) => Options.FirstOrDefault(o => o.Name == name);

    /// <summary>
    /// Whether <paramref name="args"/> ask for help: a <c>--help</c> or <c>-h</c> anywhere that is not the value of
    /// an option (so <c>--text -h</c> still encodes "-h").
    /// </summary>
    public bool AsksForHelp(IReadOnlyList<string> args)
    {
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (a is "--help" or "-h") return true;
            if (a.StartsWith("--") && !a.Contains('=') && Find(a[2..]) is { IsFlag: false }) i++;
        }
        return false;
    }
}
