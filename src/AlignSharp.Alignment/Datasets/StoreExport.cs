using AlignSharp.Feedback;
using AlignSharp.Feedback.Store;
using AlignSharp.Training.Data;

namespace AlignSharp.Alignment.Datasets;

/// <summary>What <see cref="StoreExport"/> writes.</summary>
public enum StoreExportFormat
{
    /// <summary><c>trl-preference</c>: per prompt, its best-scored response against its worst (ties dropped), for DPO and reward models.</summary>
    TrlPreference,

    /// <summary><c>trl-unpaired</c>: every scored response with label = score ≥ threshold, for KTO.</summary>
    TrlUnpaired,

    /// <summary><c>trl-sft</c>: per prompt, its best response if it scores ≥ threshold, as prompt + completion (rejection sampling, best-of-n).</summary>
    TrlSft,

    /// <summary><c>labels</c>: every label with its whole provenance (<see cref="LabelJson"/>), which <see cref="StoreExport.ImportLabels"/> reads back.</summary>
    Labels,
}

/// <summary>Settings of one export.</summary>
public sealed record StoreExportOptions
{
    /// <summary>What to write.</summary>
    public required StoreExportFormat Format { get; init; }

    /// <summary>
    /// The source whose labels decide (its name or fingerprint). Required for the TRL formats when the store holds
    /// several fingerprints; for <see cref="StoreExportFormat.Labels"/> it filters (null: every label).
    /// </summary>
    public string? Source { get; init; }

    /// <summary>The score at or above which a response is desirable (trl-unpaired) or good enough to imitate (trl-sft).</summary>
    public double Threshold { get; init; } = 0.5;

    /// <summary>trl-preference: add the score margin chosen − rejected as <c>"margin"</c> (TRL's reward trainer reads it).</summary>
    public bool WithMargin { get; init; }
}

/// <summary>What an export wrote.</summary>
/// <param name="Rows">Lines written.</param>
/// <param name="Prompts">Distinct prompts among the labels read.</param>
/// <param name="PromptsDropped">Prompts that gave no row: a tie between best and worst (trl-preference), no response at the threshold (trl-sft), nothing applicable.</param>
/// <param name="Fingerprint">The source fingerprint exported; null for an unfiltered labels export.</param>
public sealed record StoreExportResult(int Rows, int Prompts, int PromptsDropped, string? Fingerprint);

/// <summary>
/// Training data from a <see cref="FeedbackStore"/>: the labels of one source, grouped by prompt (in the order first
/// stored, each prompt's responses in the order stored), turned into TRL datasets through <see cref="PreferencePairs"/>
/// and written with <see cref="TrlJsonlWriter"/> (conversational form, atomically); or every label with its
/// provenance, and those read back into a store.
/// </summary>
public static class StoreExport
{
    /// <summary>The format names as the CLI and recipes spell them, in <see cref="StoreExportFormat"/> order.</summary>
    public static readonly string[] FormatNames = ["trl-preference", "trl-unpaired", "trl-sft", "labels"];

    /// <summary>The lower-case name of <paramref name="format"/>.</summary>
    public static string Name(StoreExportFormat format) => FormatNames[(int)format];

    /// <summary>Parses a format name (case-insensitive).</summary>
    /// <exception cref="FeedbackException">Not one of <see cref="FormatNames"/>.</exception>
    public static StoreExportFormat ParseFormat(string name)
    {
        int i = Array.FindIndex(FormatNames, n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
        return i >= 0 ? (StoreExportFormat)i : throw new FeedbackException($"export format must be one of {string.Join(", ", FormatNames)} (got '{name}')");
    }

    /// <summary>Writes the export to <paramref name="path"/> (replacing it atomically).</summary>
    /// <exception cref="FeedbackException">No source, or an ambiguous one, for a TRL format; a threshold that is not finite.</exception>
    public static StoreExportResult Export(FeedbackStore store, string path, StoreExportOptions options)
    {
        if (!double.IsFinite(options.Threshold)) throw new FeedbackException($"export: threshold must be a finite number (got {options.Threshold})");
        if (options.Format == StoreExportFormat.Labels) return ExportLabels(store, path, options.Source);
        string fingerprint = ResolveSource(store, options.Source);
        var groups = Group(store.Labels(fingerprint).Where(l => l.Fingerprint == fingerprint));
        using var writer = new TrlJsonlWriter(path);
        int dropped = 0;
        foreach (var g in groups)
        {
            var rows = Rows(g, options);
            if (rows.Count == 0) dropped++;
            foreach (var row in rows) writer.Write(row);
        }
        return new StoreExportResult(writer.Commit(), groups.Count, dropped, fingerprint);
    }

    static List<DatasetRow> Rows(PromptLabels g, StoreExportOptions options) => options.Format switch
    {
        StoreExportFormat.TrlPreference => PreferencePairs.Build(g.Prompt, g.Responses, g.Labels) is { } pair
            ? [TrlRows.Preference(pair, withMargin: options.WithMargin)] : [],
        StoreExportFormat.TrlUnpaired => PreferencePairs.BuildUnpaired(g.Prompt, g.Responses, g.Labels, options.Threshold)
            .Select(u => (DatasetRow)TrlRows.Unpaired(u)).ToList(),
        StoreExportFormat.TrlSft => BestOfN(g, options.Threshold) is { } best ? [TrlRows.PromptCompletion(g.Prompt, best)] : [],
        _ => throw new ArgumentOutOfRangeException(nameof(options)),
    };

    /// <summary>The highest-scored response at or above <paramref name="threshold"/> (the earliest among equals), or null.</summary>
    static string? BestOfN(PromptLabels g, double threshold)
    {
        int best = -1;
        for (int i = 0; i < g.Labels.Count; i++)
            if (g.Labels[i] is { Unparsable: false } l && l.Score >= threshold && (best < 0 || l.Score > g.Labels[best]!.Score)) best = i;
        return best < 0 ? null : g.Responses[best];
    }

    /// <summary>One prompt's labelled responses (null label: the source does not apply).</summary>
    /// <param name="Prompt">The prompt (as first stored).</param>
    /// <param name="Responses">Its responses, in the order stored.</param>
    /// <param name="Labels">One label (or null) per response.</param>
    public sealed record PromptLabels(PromptRecord Prompt, IReadOnlyList<string> Responses, IReadOnlyList<FeedbackLabel?> Labels);

    /// <summary>Groups labels by prompt content (not id), prompts in the order first seen, responses in the order given.</summary>
    public static IReadOnlyList<PromptLabels> Group(IEnumerable<StoredLabel> labels)
    {
        var groups = new List<(PromptRecord Prompt, List<string> Responses, List<FeedbackLabel?> Labels)>();
        var index = new Dictionary<string, int>();
        foreach (var l in labels)
        {
            string content = PromptJson.Canonical(l.Prompt);
            if (!index.TryGetValue(content, out int i))
            {
                index[content] = i = groups.Count;
                groups.Add((l.Prompt, [], []));
            }
            groups[i].Responses.Add(l.Response);
            groups[i].Labels.Add(l.Label);
        }
        return groups.Select(g => new PromptLabels(g.Prompt, g.Responses, g.Labels)).ToList();
    }

    /// <summary>
    /// The fingerprint <paramref name="sourceOrFingerprint"/> names — a fingerprint, or a source name stored under
    /// one fingerprint only — or, when it is null, the store's only fingerprint.
    /// </summary>
    /// <exception cref="FeedbackException">No labels, no match, or several candidates (the message lists them).</exception>
    public static string ResolveSource(FeedbackStore store, string? sourceOrFingerprint)
    {
        var sources = store.Sources();
        string List() => string.Join(", ", sources.Select(s => $"{s.Source} ({s.Fingerprint}, {s.Labels} labels)"));
        if (sources.Count == 0) throw new FeedbackException($"{store.Path}: the store holds no labels yet");
        if (sourceOrFingerprint is null)
        {
            if (sources.Count == 1) return sources[0].Fingerprint;
            throw new FeedbackException($"{store.Path}: labels from {sources.Count} sources; choose one with --source NAME_OR_FINGERPRINT: {List()}");
        }
        if (sources.FirstOrDefault(s => s.Fingerprint == sourceOrFingerprint) is { Fingerprint: not null } exact) return exact.Fingerprint;
        var named = sources.Where(s => s.Source == sourceOrFingerprint).ToList();
        return named.Count switch
        {
            1 => named[0].Fingerprint,
            0 => throw new FeedbackException($"{store.Path}: no labels from source '{sourceOrFingerprint}'; the store has: {List()}"),
            _ => throw new FeedbackException($"{store.Path}: source '{sourceOrFingerprint}' was stored under {named.Count} fingerprints (its settings or version changed); "
                + $"give one with --source: {string.Join(", ", named.Select(s => s.Fingerprint))}"),
        };
    }

    static StoreExportResult ExportLabels(FeedbackStore store, string path, string? source)
    {
        string? fingerprint = source is null ? null : ResolveSource(store, source);
        var labels = fingerprint is null ? store.Labels() : store.Labels(fingerprint).Where(l => l.Fingerprint == fingerprint).ToList();
        using var file = new JsonlFileWriter(path);
        foreach (var label in labels) file.WriteLine(w => LabelJson.Write(w, label));
        int prompts = labels.Select(l => PromptJson.Canonical(l.Prompt)).Distinct().Count();
        return new StoreExportResult(file.Commit(), prompts, 0, fingerprint);
    }

    /// <summary>
    /// Reads a <c>labels</c> export into <paramref name="store"/> in one transaction; labels already stored (same key)
    /// are kept. Every line is checked before anything is written. Returns the lines read and the labels added.
    /// </summary>
    /// <exception cref="FeedbackException">The file is missing, or a line is malformed (the message names <c>file:line</c>).</exception>
    public static (int Read, int Added) ImportLabels(FeedbackStore store, string path)
    {
        if (!File.Exists(path)) throw new FeedbackException($"{path}: file not found");
        var labels = new List<StoredLabel>();
        int lineNumber = 0;
        using var reader = new StreamReader(path, new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true));
        try
        {
            for (string? line; (line = reader.ReadLine()) is not null;)
            {
                lineNumber++;
                if (string.IsNullOrWhiteSpace(line)) continue;
                string origin = $"{path}:{lineNumber}";
                try
                {
                    using var doc = System.Text.Json.JsonDocument.Parse(line);
                    labels.Add(LabelJson.Read(doc.RootElement, origin));
                }
                catch (System.Text.Json.JsonException e)
                {
                    throw new FeedbackException($"{origin}: not valid JSON ({e.Message.Split(" Path:")[0].TrimEnd('.')}); each line must hold one label object");
                }
                catch (InvalidOperationException)
                {
                    throw new FeedbackException($"{origin}: a string holds an unpaired UTF-16 surrogate escape (\\ud800-\\udfff); fix or remove it");
                }
            }
        }
        catch (System.Text.DecoderFallbackException)
        {
            throw new FeedbackException($"{path}:{lineNumber + 1}: not valid UTF-8; save the file as UTF-8");
        }
        return (labels.Count, store.PutLabels(labels));
    }
}
