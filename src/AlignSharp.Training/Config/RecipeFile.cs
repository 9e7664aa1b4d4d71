using AlignSharp.Feedback;
using YamlDotNet.RepresentationModel;

namespace AlignSharp.Training.Config;

/// <summary>
/// Reads a YAML recipe into flat key → (value, source) pairs: top-level scalars and lists (lists become "[a, b]").
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
                    values[key] = v switch
                    {
                        YamlScalarNode s => (s.Value ?? "null", source),
                        YamlSequenceNode seq => ("[" + string.Join(", ", seq.Children.Select(c => (c as YamlScalarNode)?.Value ?? throw new TrainingException($"{source}: {key}: list items must be plain values"))) + "]", source),
                        _ => throw new TrainingException($"{source}: {key}: nested mappings are not supported; use flat keys"),
                    };
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
}
