using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace AlignSharp.Feedback;

/// <summary>
/// A constitution: named principles, each with its plain-language text (for LLM judges) and, optionally, a
/// programmatic check (for worlds where one exists, such as the embedded demo world's), after Bai et al. 2022,
/// "Constitutional AI: Harmlessness from AI Feedback". The checks a file may name are given by the caller (an
/// environment's checks); a principle with <c>text</c> only is for a judge to score.
/// File format:
/// <code>
/// name: demo                    # optional; defaults to the file name
/// judge_checks: false           # optional: true = a judge scores every principle whose scorer is auto, checks or not
/// principles:
///   - id: refuse_harmful
///     text: Decline requests that would cause harm, and offer a safe alternative.
///     check: refuse_harmful     # optional: one of the caller's checks; without it a judge scores the text
///     weight: 2                 # optional, default 1, positive
///     applies_to: [harmful]     # optional: prompt categories (a name or a list)
///     scorer: auto              # optional: auto (check if any, else judge), judge, or check
/// </code>
/// </summary>
public sealed record Constitution(string Name, IReadOnlyList<Principle> Principles, IReadOnlyDictionary<string, ISignalSource> Checks)
{
    static readonly string[] TopKeys = ["name", "judge_checks", "principles"];
    static readonly string[] PrincipleKeys = ["id", "text", "check", "weight", "applies_to", "scorer"];

    /// <summary>The file's <c>judge_checks</c>: a judge scores principles with a check too (those whose scorer is auto).</summary>
    public bool JudgeChecks { get; init; }

    /// <summary>Reads a constitution file; errors name the file, line and key. <paramref name="checks"/>: the checks principles may name.</summary>
    public static Constitution Load(string path, IReadOnlyDictionary<string, ISignalSource> checks)
    {
        if (!File.Exists(path)) throw new FeedbackException($"{path}: constitution file not found");
        return Parse(File.ReadAllText(path), path, checks);
    }

    /// <summary>Parses constitution YAML; <paramref name="origin"/> names it in errors; <paramref name="checks"/>: the checks principles may name.</summary>
    public static Constitution Parse(string yaml, string origin, IReadOnlyDictionary<string, ISignalSource> checks)
    {
        YamlStream stream;
        try { stream = SafeYaml.Load(yaml); }
        catch (YamlDotNet.Core.YamlException e) { throw new FeedbackException($"{origin}:{e.Start.Line}: not valid YAML: {e.Message}"); }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new FeedbackException($"{origin}: expected a mapping with a 'principles' list at the top level");

        string name = Path.GetFileNameWithoutExtension(origin);
        bool judgeChecks = false;
        YamlSequenceNode? list = null;
        foreach (var (keyNode, value) in root.Children)
        {
            string key = Key(keyNode);
            switch (key)
            {
                case "name": name = Scalar(value, origin, "name"); break;
                case "judge_checks":
                    judgeChecks = Scalar(value, origin, "judge_checks") switch
                    {
                        "true" => true,
                        "false" => false,
                        var other => throw new FeedbackException($"{At(origin, value)}: judge_checks: expected true or false (got '{other}')"),
                    };
                    break;
                case "principles":
                    list = value as YamlSequenceNode ?? throw new FeedbackException($"{At(origin, value)}: principles: expected a list of principles (- id: ...)");
                    break;
                default: throw new FeedbackException($"{At(origin, keyNode)}: unknown key '{key}'; known keys: {string.Join(", ", TopKeys)}");
            }
        }
        if (list is null) throw new FeedbackException($"{origin}: missing key 'principles' (a list of principles with id, text, check)");
        if (list.Children.Count == 0) throw new FeedbackException($"{At(origin, list)}: principles: the list is empty");

        var principles = new List<Principle>();
        var seen = new Dictionary<string, string>();
        for (int i = 0; i < list.Children.Count; i++)
        {
            var p = ParsePrinciple(list.Children[i], $"principles[{i}]", origin, checks);
            if (seen.TryGetValue(p.Id, out var first)) throw new FeedbackException($"{p.Origin}: principles[{i}].id: '{p.Id}' is already defined at {first}; ids must be unique");
            seen[p.Id] = p.Origin;
            principles.Add(p);
        }
        return new Constitution(name, principles, checks) { JudgeChecks = judgeChecks };
    }

    static Principle ParsePrinciple(YamlNode node, string path, string origin, IReadOnlyDictionary<string, ISignalSource> checks)
    {
        if (node is not YamlMappingNode map) throw new FeedbackException($"{At(origin, node)}: {path}: expected a mapping with id, text, check");
        if (map.Children.TryGetValue(new YamlScalarNode("id"), out var idNode) && idNode is YamlScalarNode { Value: { Length: > 0 } idText })
            path = $"{path} ({idText.Trim()})";
        var values = new Dictionary<string, YamlNode>();
        foreach (var (keyNode, value) in map.Children)
        {
            string key = Key(keyNode);
            if (!PrincipleKeys.Contains(key)) throw new FeedbackException($"{At(origin, keyNode)}: {path}: unknown key '{key}'; known keys: {string.Join(", ", PrincipleKeys)}");
            values[key] = value;
        }
        string Required(string key, string what) => values.TryGetValue(key, out var v)
            ? Scalar(v, origin, $"{path}.{key}") is { Length: > 0 } s ? s : throw new FeedbackException($"{At(origin, v)}: {path}.{key}: is empty; give {what}")
            : throw new FeedbackException($"{At(origin, map)}: {path}: missing key '{key}' ({what})");

        string id = Required("id", "a unique name for the principle");
        string text = Required("text", "the principle in plain language");
        string? check = values.ContainsKey("check") ? Required("check", $"one of: {string.Join(", ", checks.Keys)}") : null;
        if (check is not null && !checks.ContainsKey(check))
            throw new FeedbackException($"{At(origin, values["check"])}: {path}.check: unknown check '{check}'; known checks: {string.Join(", ", checks.Keys)}");

        double weight = 1;
        if (values.TryGetValue("weight", out var w))
        {
            var raw = Scalar(w, origin, $"{path}.weight");
            if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out weight) || !double.IsFinite(weight))
                throw new FeedbackException($"{At(origin, w)}: {path}.weight: expected a number, got '{raw}'");
            if (weight <= 0) throw new FeedbackException($"{At(origin, w)}: {path}.weight: must be positive (got {raw})");
        }

        IReadOnlyList<string> appliesTo = [];
        if (values.TryGetValue("applies_to", out var a))
            appliesTo = a switch
            {
                YamlScalarNode s => [s.Value ?? ""],
                YamlSequenceNode seq => seq.Children.Select(c => Scalar(c, origin, $"{path}.applies_to")).ToArray(),
                _ => throw new FeedbackException($"{At(origin, a)}: {path}.applies_to: expected a category or a list of categories"),
            };
        var scorer = PrincipleScorer.Auto;
        if (values.TryGetValue("scorer", out var sc))
        {
            string raw = Scalar(sc, origin, $"{path}.scorer");
            scorer = raw switch
            {
                "auto" => PrincipleScorer.Auto,
                "judge" => PrincipleScorer.Judge,
                "check" => check is not null ? PrincipleScorer.Check
                    : throw new FeedbackException($"{At(origin, sc)}: {path}.scorer: 'check' needs a check: key; give one or use scorer: judge"),
                _ => throw new FeedbackException($"{At(origin, sc)}: {path}.scorer: expected auto, judge or check (got '{raw}')"),
            };
        }
        return new Principle(id, text, check, weight, appliesTo, At(origin, map), scorer);
    }

    /// <summary>
    /// The principles that have no programmatic check (text only), which only a judge can score; a programmatic
    /// pipeline refuses them through <see cref="ConstitutionSource"/>.
    /// </summary>
    public IReadOnlyList<Principle> TextOnly => Principles.Where(p => p.Check is null).ToList();

    /// <summary>
    /// Whether a judge scores <paramref name="principle"/>: it has no check, or its scorer is judge, or its scorer is
    /// auto and the file or the pipeline (<paramref name="judgeChecks"/>) says judge_checks.
    /// </summary>
    public bool JudgeScores(Principle principle, bool judgeChecks = false) => principle.Scorer switch
    {
        PrincipleScorer.Judge => true,
        PrincipleScorer.Check => false,
        _ => principle.Check is null || JudgeChecks || judgeChecks,
    };

    static string Key(YamlNode node) => (node as YamlScalarNode)?.Value ?? "";

    static string Scalar(YamlNode node, string origin, string key) =>
        node is YamlScalarNode s ? (s.Value ?? "").Trim() : throw new FeedbackException($"{At(origin, node)}: {key}: expected a single value");

    static string At(string origin, YamlNode node) => $"{origin}:{node.Start.Line}";
}
