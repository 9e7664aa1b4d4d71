using System.Globalization;
using AlignSharp.Alignment.Datasets;
using AlignSharp.Feedback.Store;

namespace AlignSharp.Cli;

/// <summary>`alignsharp store stats|export|import`: the feedback store, read and written through the library.</summary>
internal static class StoreCommand
{
    static readonly OptionSpec Db = new("db", "FILE", "the feedback store (an SQLite file); required");

    internal static readonly CommandSpec StatsSpec = new("store stats", "--db FILE [--threshold X]",
        "generations and labels per source (mean score, not-applicable count), and agreement between sources on shared items (share agreeing, Cohen's κ)",
        Db,
        new("threshold", "X", "a score ≥ X counts as good when comparing sources", "0.5"));

    internal static readonly CommandSpec ExportSpec = new("store export", "--db FILE --format FORMAT --out FILE [options]",
        "write training data in TRL's formats from one source's labels, or every label with its provenance",
        Db,
        new("format", "FORMAT", "trl-preference: per prompt best vs worst response (ties dropped); trl-unpaired: every response, label = score ≥ threshold; "
            + "trl-sft: per prompt the best response scoring ≥ threshold, as prompt + completion; labels: every label with its whole provenance (what store import reads); required",
            null, StoreExport.FormatNames),
        new("out", "FILE", "the .jsonl file to write (replaced atomically); required"),
        new("source", "NAME_OR_FINGERPRINT", "the source whose labels decide; needed when the store holds several (labels: filters)"),
        new("threshold", "X", "desirable (trl-unpaired) or good enough (trl-sft) from this score up", "0.5"),
        OptionSpec.Flag("margin", "trl-preference: add the score margin chosen − rejected as \"margin\""));

    internal static readonly CommandSpec ImportSpec = new("store import", "--db FILE --in FILE.jsonl",
        "add the labels of a `store export --format labels` file to a store (created if missing); labels already there are kept",
        Db,
        new("in", "FILE", "a labels .jsonl file; required"));

    public static int Run(string[] args, TextWriter stdout)
    {
        if (args.Length == 0) throw new UsageException("store: name a subcommand (stats, export, import)");
        return args[0] switch
        {
            "stats" => Stats(new Options(args[1..], StatsSpec), stdout),
            "export" => Export(new Options(args[1..], ExportSpec), stdout),
            "import" => Import(new Options(args[1..], ImportSpec), stdout),
            _ => throw new UsageException($"store: unknown subcommand '{args[0]}' (known: stats, export, import)"),
        };
    }

    static int Stats(Options o, TextWriter stdout)
    {
        using var store = OpenExisting(o, StatsSpec.Path);
        double threshold = Threshold(o, StatsSpec.Path);
        var stats = store.Statistics(threshold);
        stdout.WriteLine($"{store.Path}: {stats.Generations} generations, {stats.Labels} labels from {stats.Sources.Count} source{(stats.Sources.Count == 1 ? "" : "s")}");
        if (stats.Sources.Count == 0) return 0;
        stdout.WriteLine();
        var rows = stats.Sources.Select(s => new[] { s.Source, s.Fingerprint, s.Labels.ToString(), s.NotApplicable.ToString(), s.MeanScore is { } m ? F(m) : "-" }).ToList();
        Table(stdout, ["source", "fingerprint", "labels", "n/a", "mean"], rows);
        stdout.WriteLine();
        string good = F(threshold);
        if (stats.Agreements.Count == 0)
        {
            stdout.WriteLine(stats.Sources.Count == 1 ? "agreement: one source only" : "agreement: no item was scored by two sources");
            return 0;
        }
        stdout.WriteLine($"agreement on items both scored (good = score ≥ {good}):");
        Table(stdout, ["source A", "source B", "shared", "agree", "both good", "both bad", "κ"], stats.Agreements.Select(a => new[]
        {
            a.SourceA, a.SourceB, a.Shared.ToString(), (a.Agreement * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%",
            a.BothGood.ToString(), a.BothBad.ToString(), a.Kappa is { } k ? k.ToString("0.000", CultureInfo.InvariantCulture) : "n/a",
        }).ToList());
        return 0;
    }

    static int Export(Options o, TextWriter stdout)
    {
        string cmd = ExportSpec.Path;
        var format = StoreExport.ParseFormat(o.Required("format", cmd));
        string output = o.Required("out", cmd);
        using var store = OpenExisting(o, cmd);
        var options = new StoreExportOptions { Format = format, Source = o.Value("source"), Threshold = Threshold(o, cmd), WithMargin = o.Flag("margin") };
        if (options.WithMargin && format != StoreExportFormat.TrlPreference) throw new UsageException($"{cmd}: --margin applies to --format trl-preference only");
        var result = StoreExport.Export(store, output, options);
        string what = format switch
        {
            StoreExportFormat.TrlPreference => $"{result.Rows} preference pairs from {result.Prompts} prompts ({result.PromptsDropped} dropped: tied or fewer than two scored responses)",
            StoreExportFormat.TrlUnpaired => $"{result.Rows} unpaired rows from {result.Prompts} prompts (desirable: score ≥ {F(options.Threshold)})",
            StoreExportFormat.TrlSft => $"{result.Rows} prompt-completion rows from {result.Prompts} prompts ({result.PromptsDropped} with no response scoring ≥ {F(options.Threshold)})",
            _ => $"{result.Rows} labels from {result.Prompts} prompts",
        };
        stdout.WriteLine($"wrote {output}: {what}{(result.Fingerprint is { } f ? $", source {f}" : "")}");
        return 0;
    }

    static int Import(Options o, TextWriter stdout)
    {
        string input = o.Required("in", ImportSpec.Path);
        if (!File.Exists(input)) throw new UsageException($"{ImportSpec.Path}: --in {input}: file not found");  // before a new store is created
        using var store = FeedbackStore.Open(o.Required("db", ImportSpec.Path));
        var (read, added) = StoreExport.ImportLabels(store, input);
        stdout.WriteLine($"imported {input} into {store.Path}: {added} labels added, {read - added} already there");
        return 0;
    }

    /// <summary>Reading commands refuse a missing --db instead of creating an empty store.</summary>
    static FeedbackStore OpenExisting(Options o, string cmd)
    {
        string path = o.Required("db", cmd);
        if (!File.Exists(path)) throw new UsageException($"{cmd}: --db {path}: file not found");
        return FeedbackStore.Open(path);
    }

    static double Threshold(Options o, string cmd)
    {
        if (o.Value("threshold") is not { } text) return 0.5;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) && double.IsFinite(x) ? x
            : throw new UsageException($"{cmd}: --threshold must be a number (got '{text}')");
    }

    static string F(double x) => x.ToString("0.###", CultureInfo.InvariantCulture);

    static void Table(TextWriter stdout, string[] head, List<string[]> rows)
    {
        var widths = head.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        string Line(string[] cells) => string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd();
        stdout.WriteLine("  " + Line(head));
        foreach (var r in rows) stdout.WriteLine("  " + Line(r));
    }
}
