using System.Text.Json;
using System.Text.Json.Nodes;
using AlignSharp.Training;

namespace AlignSharp.Cli.Demo;

/// <summary>
/// The settings a demo run was started with, kept as <c>recipe.json</c> in the run folder. Resuming with settings that
/// would have changed a finished stage (another seed, world size, model shape, learning rate...) would silently mix
/// outputs made under both, so it is refused with every changed key named.
/// </summary>
internal static class RunRecipe
{
    public const string FileName = "recipe.json";

    /// <summary>Keys that name the folder, or only add stages or report lines, so they may change between resumes.</summary>
    private static readonly string[] FreeKeys = ["name", "runs_dir", "rounds", "report_samples"];

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    /// <summary>On resume, checks <paramref name="options"/> against the recorded recipe; then records them.</summary>
    public static void CheckAndRecord(DemoOptions options, bool resume)
    {
        string path = Path.Combine(options.RunDir, FileName);
        var current = JsonSerializer.SerializeToNode(options, Json)!.AsObject();
        if (resume && File.Exists(path))
        {
            JsonObject recorded;
            try { recorded = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new JsonException("not an object"); }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                throw new TrainingException($"{path}: cannot read the recipe this run was started with ({e.Message}); delete it to resume anyway, or drop --resume to start over");
            }
            var changed = current.Where(kv => !FreeKeys.Contains(kv.Key) && !JsonNode.DeepEquals(kv.Value, recorded[kv.Key]))
                .Select(kv => $"{kv.Key}: {Show(kv.Value)} (the run was started with {Show(recorded[kv.Key])})").ToList();
            if (changed.Count > 0)
                throw new TrainingException($"{options.RunDir}: --resume with settings that differ from the run's {FileName}, so finished stages would not match: "
                    + string.Join("; ", changed) + ". Resume with the same settings, pick another name (--set name=...), or drop --resume to start over.");
        }
        Directory.CreateDirectory(options.RunDir);
        File.WriteAllText(path, current.ToJsonString(Json) + "\n");
    }

    private static string Show(JsonNode? value) => value is null ? "(not set)" : value.ToJsonString();
}
