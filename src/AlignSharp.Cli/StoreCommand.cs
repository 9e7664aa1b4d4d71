using System.Globalization;
using AlignSharp.Alignment.Datasets;
using AlignSharp.Feedback.Store;

namespace AlignSharp.Cli;

/// <summary>`alignsharp store stats|export|import`: the feedback store, read and written through the library.</summary>
internal static class StoreCommand
{
    static readonly OptionSpec Db = new("db", "FILE", "the feedback store (an SQLite file); required");

    internal static readonly CommandSpec StatsSpec = new("store stats", "--db FILE [--threshold X] [--min-shared N] [--reference SOURCE]",
        "generations and labels per source (mean score, not-applicable and unparsable counts), agreement between sources on shared items "
        + "(share agreeing, Cohen's κ), and each pairwise judge's verdicts and position bias",
        Db,
        new("threshold", "X", "a score ≥ X counts as good when comparing sources", "0.5"),
        new("min-shared", "N", "list the agreement of two sources only when they share at least N scored items", "1"),
        new("reference", "SOURCE", "a source (name or fingerprint) taken as ground truth, such as a verifier: every other source's accuracy against it"));

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
        int minShared = o.Int("min-shared", 1);
        stdout.WriteLine($"{store.Path}: {stats.Generations} generations, {stats.Labels} labels from {stats.Sources.Count} source{(stats.Sources.Count == 1 ? "" : "s")}");
        if (stats.Sources.Count == 0) return 0;
        stdout.WriteLine();
        // The unparsable column appears only when a judge left unreadable answers, so other stores print as before.
        bool anyUnparsable = stats.Sources.Any(s => s.Unparsable > 0);
        var rows = stats.Sources.Select(s => new[] { s.Source, s.Fingerprint, s.Labels.ToString(), s.NotApplicable.ToString() }
            .Concat(anyUnparsable ? [s.Unparsable.ToString()] : []).Append(s.MeanScore is { } m ? F(m) : "-").ToArray()).ToList();
        Table(stdout, ["source", "fingerprint", "labels", "n/a", .. anyUnparsable ? ["unparsable"] : Array.Empty<string>(), "mean"], rows);
        stdout.WriteLine();
        string good = F(threshold);
        var agreements = stats.AgreementsWithAtLeast(minShared).ToList();
        if (agreements.Count == 0)
            stdout.WriteLine(stats.Sources.Count == 1 ? "agreement: one source only"
                : stats.Agreements.Count == 0 ? "agreement: no item was scored by two sources"
                : $"agreement: no two sources share {minShared} or more scored items");
        else
        {
            stdout.WriteLine($"agreement on items both scored (good = score ≥ {good}{(minShared > 1 ? $", pairs sharing ≥ {minShared} items" : "")}):");
            Table(stdout, ["source A", "source B", "shared", "agree", "both good", "both bad", "κ"], agreements.Select(a => new[]
            {
                a.SourceA, a.SourceB, a.Shared.ToString(), Percent(a.Agreement), a.BothGood.ToString(), a.BothBad.ToString(), Kappa(a.Kappa),
            }).ToList());
        }
        if (o.Value("reference") is { } reference) Reference(store, stats, reference, minShared, stdout);
        if (stats.PairwiseJudges is { Count: > 0 } judges)
        {
            stdout.WriteLine();
            stdout.WriteLine("pairwise judges (a pair flips when its verdict changes with the order the two responses are shown in):");
            Table(stdout, ["judge", "fingerprint", "verdicts", "unparsable", "pairs", "flipped", "first both", "second both"], judges.Select(j => new[]
            {
                j.Judge, j.Fingerprint, j.Verdicts.ToString(), j.Unparsable.ToString(), j.Bias.Pairs.ToString(),
                j.Bias.Pairs == 0 ? "-" : $"{j.Bias.Flipped} ({Percent(j.Bias.FlipRate)})", j.Bias.FirstShownBoth.ToString(), j.Bias.SecondShownBoth.ToString(),
            }).ToList());
        }
        return 0;
    }

    /// <summary>Every other source's accuracy against the reference source (and κ), on the items both scored.</summary>
    static void Reference(FeedbackStore store, StoreStatistics stats, string reference, int minShared, TextWriter stdout)
    {
        var match = stats.Sources.Where(s => s.Fingerprint == reference).ToList() is { Count: 1 } byFingerprint ? byFingerprint : stats.Sources.Where(s => s.Source == reference).ToList();
        if (match.Count != 1)
            throw new UsageException(match.Count == 0
                ? $"{StatsSpec.Path}: --reference {reference}: no such source in {store.Path}; known: {string.Join(", ", stats.Sources.Select(s => s.Source).Distinct())}"
                : $"{StatsSpec.Path}: --reference {reference}: names {match.Count} fingerprints; give one of {string.Join(", ", match.Select(s => s.Fingerprint))}");
        string refFingerprint = match[0].Fingerprint;
        var rows = new List<string[]>();
        foreach (var s in stats.Sources.Where(s => s.Fingerprint != refFingerprint))
            if (AlignSharp.Feedback.Judges.JudgeAgreement.Between(store, s.Fingerprint, refFingerprint, stats.Threshold) is { } a && a.Shared >= minShared)
                rows.Add([s.Source, a.Shared.ToString(), Percent(a.Agreement), a.OnlyAGood.ToString(), a.OnlyBGood.ToString(), Kappa(a.Kappa)]);
        stdout.WriteLine();
        if (rows.Count == 0) { stdout.WriteLine($"against {match[0].Source}: no other source shares {minShared} or more scored items with it"); return; }
        stdout.WriteLine($"against {match[0].Source} as ground truth (good = score ≥ {F(stats.Threshold)}):");
        Table(stdout, ["source", "shared", "accuracy", "false good", "false bad", "κ"], rows);
    }

    static string Percent(double x) => double.IsNaN(x) ? "-" : (x * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    static string Kappa(double? k) => k is { } v ? v.ToString("0.000", CultureInfo.InvariantCulture) : "n/a";

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
