using AlignSharp.Models.Checkpoints;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using AlignSharp.Training.Config;

namespace AlignSharp.Training.Core;

/// <summary>
/// The settings a run was started with (every <see cref="TrainingArguments"/> key and the method's options, as
/// recipes spell them), kept as <c>run_settings.json</c> in output_dir. A resume with another learning rate, batch
/// size, seed, dataset or model would continue a run that none of its checkpoints belong to, so it is refused with
/// every changed key named, unless the user lists the keys they mean to change in <c>resume_override</c>.
/// </summary>
public static class RunSettings
{
    public const string FileName = "run_settings.json";

    /// <summary>Keys that only name the folder, steer resuming or change what is logged and kept, never the weights: free to change on resume.</summary>
    public static readonly IReadOnlyList<string> SafeToChangeOnResume =
        ["output_dir", "resume", "resume_override", "overwrite_output_dir", "logging_steps", "save_steps", "save_total_limit", "threads", "eval_dataset"];

    /// <summary>Keys that may change on resume as long as the run gets no shorter (its total optimizer steps do not fall).</summary>
    public static readonly IReadOnlyList<string> MayGrowOnResume = ["max_steps", "num_train_epochs"];

    /// <summary>One line for <c>train --help</c> naming the keys a resume may change.</summary>
    public static string HelpLine =>
        $"resume: true refuses changed settings except {string.Join(", ", SafeToChangeOnResume)}; {string.Join(" and ", MayGrowOnResume)} may grow; " +
        "name any other key you mean to change in resume_override (e.g. resume_override: [learning_rate]).";

    /// <summary>Derived value recorded beside the keys: the run's total optimizer steps.</summary>
    public const string TotalStepsKey = "total_steps";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Every key of <paramref name="args"/> and of each options record, with its value as a recipe writes it.</summary>
    public static Dictionary<string, string> Of(TrainingArguments args, long totalSteps, IEnumerable<object> methodOptions)
    {
        var values = ConfigBinder.Values(args).ToDictionary(kv => kv.Key, kv => kv.Value);
        foreach (var options in methodOptions)
            foreach (var (key, value) in ConfigBinder.Values(options))
                values[key] = value;
        values[TotalStepsKey] = totalSteps.ToString(CultureInfo.InvariantCulture);
        return values;
    }

    public static void Record(string outputDir, IReadOnlyDictionary<string, string> settings)
    {
        Directory.CreateDirectory(outputDir);
        string path = Path.Combine(outputDir, FileName);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(settings, Json) + "\n");
    }

    /// <summary>The recorded settings, or null for a folder written before settings were recorded.</summary>
    public static Dictionary<string, string>? Read(string outputDir)
    {
        string path = Path.Combine(outputDir, FileName);
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)) ?? throw new JsonException("empty"); }
        catch (JsonException e)
        {
            throw new TrainingException($"{path}: cannot read the settings this run was started with ({e.Message}); delete it to resume without the check, or start over with overwrite_output_dir: true");
        }
    }

    /// <summary>
    /// Refuses a resume whose settings differ from the recorded ones in keys that are neither safe to change nor
    /// named in <paramref name="overrides"/>, naming each; a key in overrides that is not a known key is refused too.
    /// </summary>
    public static void CheckResume(string outputDir, IReadOnlyDictionary<string, string> current, IReadOnlyCollection<string> overrides)
    {
        foreach (var key in overrides)
            if (!current.ContainsKey(key) || key == TotalStepsKey)
                throw new TrainingException($"resume_override: '{key}' is not a training key; list keys as in the recipe, e.g. resume_override: [learning_rate]");
        var recorded = Read(outputDir);
        if (recorded is null) return;
        var changed = new List<string>();
        bool shorter = long.TryParse(recorded.GetValueOrDefault(TotalStepsKey), out long recordedTotal)
            && long.Parse(current[TotalStepsKey], CultureInfo.InvariantCulture) < recordedTotal;
        foreach (var (key, value) in current)
        {
            if (key == TotalStepsKey || SafeToChangeOnResume.Contains(key) || overrides.Contains(key)) continue;
            string? before = recorded.GetValueOrDefault(key);
            if (before == value) continue;
            if (before is null && !recorded.ContainsKey(key)) continue; // a key added by a later version: nothing to compare with
            if (MayGrowOnResume.Contains(key) && !shorter) continue;
            changed.Add(MayGrowOnResume.Contains(key)
                ? $"{key}: {value} (the run was started with {before}; it may only grow: {current[TotalStepsKey]} total steps is fewer than {recordedTotal})"
                : $"{key}: {value} (the run was started with {before})");
        }
        if (changed.Count > 0)
            throw new TrainingException($"{outputDir}: resume with settings that differ from the run's {FileName}: {string.Join("; ", changed)}. " +
                $"Resume with the run's settings, name the keys you mean to change in resume_override (e.g. resume_override: [{ChangedKeys(changed)}]), " +
                "or start a new run (another output_dir, or overwrite_output_dir: true).");
    }

    private static string ChangedKeys(List<string> changed) => string.Join(", ", changed.Select(c => c[..c.IndexOf(':')]));
}
