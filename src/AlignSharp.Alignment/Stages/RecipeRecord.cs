using AlignSharp.Models.Checkpoints;
using System.Text.Encodings.Web;
using System.Text.Json;
using AlignSharp.Training;

namespace AlignSharp.Alignment.Stages;

/// <summary>
/// The settings a run was started with, kept as <c>recipe.json</c> in the run folder (recipe keys and values as the
/// recipe spells them). Resuming with settings that would have changed a finished stage (another seed, world size,
/// model shape, learning rate...) would silently mix outputs made under both, so it is refused with every changed key
/// named; keys listed as free (the run's name, keys that only add stages or report lines) may change.
/// </summary>
public static class RecipeRecord
{
    public const string FileName = "recipe.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>On resume, checks <paramref name="values"/> against the recorded recipe in <paramref name="runDir"/>; then records them.</summary>
    /// <exception cref="TrainingException">The recorded recipe cannot be read, or a key other than <paramref name="freeKeys"/> changed.</exception>
    public static void CheckAndRecord(string runDir, IReadOnlyDictionary<string, string> values, IReadOnlyCollection<string> freeKeys, bool resume)
    {
        string path = Path.Combine(runDir, FileName);
        if (resume && File.Exists(path))
        {
            Dictionary<string, string> recorded;
            try { recorded = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)) ?? throw new JsonException("null"); }
            catch (JsonException e)
            {
                throw new TrainingException($"{path}: cannot read the recipe this run was started with ({e.Message}); delete it to resume anyway, or drop --resume to start over");
            }
            var changed = values.Where(kv => !freeKeys.Contains(kv.Key) && recorded.GetValueOrDefault(kv.Key) != kv.Value)
                .Select(kv => $"{kv.Key}: {kv.Value} (the run was started with {recorded.GetValueOrDefault(kv.Key, "(not set)")})").ToList();
            if (changed.Count > 0)
                throw new TrainingException($"{runDir}: --resume with settings that differ from the run's {FileName}, so finished stages would not match: "
                    + string.Join("; ", changed) + ". Resume with the same settings, pick another name (--set name=...), or drop --resume to start over.");
        }
        Directory.CreateDirectory(runDir);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(values, Json) + "\n");
    }
}
