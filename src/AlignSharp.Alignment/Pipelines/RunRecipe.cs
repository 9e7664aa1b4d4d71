using System.Text.Encodings.Web;
using System.Text.Json;
using AlignSharp.Training;
using AlignSharp.Training.Config;

namespace AlignSharp.Alignment.Pipelines;

/// <summary>
/// The settings a demo run was started with, kept as <c>recipe.json</c> in the run folder (recipe keys and values as
/// <see cref="ConfigBinder"/> names and prints them). Resuming with settings that would have changed a finished stage
/// (another seed, world size, model shape, learning rate...) would silently mix outputs made under both, so it is
/// refused with every changed key named.
/// </summary>
public static class RunRecipe
{
    public const string FileName = "recipe.json";

    /// <summary>Keys that name the folder, or only add stages or report lines, so they may change between resumes.</summary>
    private static readonly string[] FreeKeys = ["name", "runs_dir", "rounds", "report_samples"];

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>On resume, checks <paramref name="options"/> against the recorded recipe; then records them.</summary>
    public static void CheckAndRecord(DemoOptions options, bool resume)
    {
        string path = Path.Combine(options.RunDir, FileName);
        var current = ConfigBinder.Values(options).ToDictionary(kv => kv.Key, kv => kv.Value);
        if (resume && File.Exists(path))
        {
            Dictionary<string, string> recorded;
            try { recorded = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)) ?? throw new JsonException("null"); }
            catch (JsonException e)
            {
                throw new TrainingException($"{path}: cannot read the recipe this run was started with ({e.Message}); delete it to resume anyway, or drop --resume to start over");
            }
            var changed = current.Where(kv => !FreeKeys.Contains(kv.Key) && recorded.GetValueOrDefault(kv.Key) != kv.Value)
                .Select(kv => $"{kv.Key}: {kv.Value} (the run was started with {recorded.GetValueOrDefault(kv.Key, "(not set)")})").ToList();
            if (changed.Count > 0)
                throw new TrainingException($"{options.RunDir}: --resume with settings that differ from the run's {FileName}, so finished stages would not match: "
                    + string.Join("; ", changed) + ". Resume with the same settings, pick another name (--set name=...), or drop --resume to start over.");
        }
        Directory.CreateDirectory(options.RunDir);
        File.WriteAllText(path, JsonSerializer.Serialize(current, Json) + "\n");
    }
}
