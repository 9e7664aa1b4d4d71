using AlignSharp.Feedback;
using YamlDotNet.RepresentationModel;

namespace AlignSharp.Training.Config;

/// <summary>
/// Reads a YAML recipe into flat key → (value, source) pairs: top-level scalars and lists (lists become "[a, b]"), and
/// one level of mapping as dotted keys — a role block <c>judge: {endpoint: URL, model: NAME}</c> becomes
/// <c>judge.endpoint</c> and <c>judge.model</c>, which <c>--set judge.model=...</c> overrides like any key.
/// Overrides given as <c>key=value</c> replace recipe values; every value remembers where it came from for errors.
/// </summary>
public static class RecipeFile
{
    public static Dictionary<string, (string Value, string Source)> Read(string? path, IEnumerable<string> overrides)
    {
        var values = new Dictionary<string, (string, string)>();
        if (path is not null)
        {
            if (!File.Exists(path)) throw new TrainingException($"{path}: recipe file not found");
            YamlStream yaml;
            try { yaml = SafeYaml.Load(File.ReadAllText(path)); }
            catch (YamlDotNet.Core.YamlException e) { throw new TrainingException($"{path}:{e.Start.Line}:{e.Start.Column}: not valid YAML: {e.Message}"); }
            if (yaml.Documents.Count > 0)
            {
                if (yaml.Documents[0].RootNode is not YamlMappingNode root)
                    throw new TrainingException($"{path}: expected a mapping of key: value at the top level");
                foreach (var (k, v) in root.Children)
                {
                    string source = $"{path}:{k.Start.Line}";
                    string key = (k as YamlScalarNode)?.Value ?? throw new TrainingException($"{source}: keys must be plain names (key: value), not lists or mappings");
                    if (v is YamlMappingNode block)
                    {
                        foreach (var (bk, bv) in block.Children)
                        {
                            string blockSource = $"{path}:{bk.Start.Line}";
                            string sub = (bk as YamlScalarNode)?.Value ?? throw new TrainingException($"{blockSource}: {key}: keys must be plain names (key: value)");
                            values[$"{key}.{sub}"] = (Value(bv, $"{key}.{sub}", blockSource, nested: true), blockSource);
                        }
                        continue;
                    }
                    values[key] = (Value(v, key, source, nested: false), source);
                }
            }
        }
        foreach (var o in overrides)
        {
            int eq = o.IndexOf('=');
            if (eq <= 0) throw new TrainingException($"--set {o}: expected key=value");
            values[o[..eq].Trim()] = (o[(eq + 1)..].Trim(), $"--set {o[..eq].Trim()}");
        }
        return values;
    }

    private static string Value(YamlNode node, string key, string source, bool nested) => node switch
    {
        YamlScalarNode s => s.Value ?? "null",
        YamlSequenceNode seq => "[" + string.Join(", ", seq.Children.Select(c => (c as YamlScalarNode)?.Value ?? throw new TrainingException($"{source}: {key}: list items must be plain values"))) + "]",
        _ => throw new TrainingException(nested
            ? $"{source}: {key}: a block holds plain values (key: value) only, one level deep"
            : $"{source}: {key}: not a value, list or block of values"),
    };
}
