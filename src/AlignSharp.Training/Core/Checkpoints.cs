using System.Text.RegularExpressions;
using AlignSharp.Training.Optim;

namespace AlignSharp.Training.Core;

/// <summary>
/// Checkpoint folders <c>checkpoint-&lt;step&gt;</c> in the output directory: the trainable weights (a Hugging Face
/// folder or a PEFT adapter), <c>optimizer.safetensors</c> and <c>trainer_state.json</c>. Each is written to a
/// temporary folder and renamed into place, so a killed run never leaves a half-written checkpoint behind.
/// </summary>
public static partial class Checkpoints
{
    public const string StateFile = "trainer_state.json";
    public const string OptimizerFile = "optimizer.safetensors";

    /// <param name="writeExtra">Writes what a method keeps beyond weights, optimizer and state (an online trainer's generation batch) into the folder being written.</param>
    public static void Save(string outputDir, long step, TrainableModel model, Optimizer optimizer, TrainerState state, int keep, Action<string>? writeExtra = null)
    {
        string final = Path.Combine(outputDir, $"checkpoint-{step}");
        string temp = final + ".tmp";
        if (Directory.Exists(temp)) Directory.Delete(temp, true);
        Directory.CreateDirectory(temp);
        model.Save(temp);
        optimizer.SaveState(Path.Combine(temp, OptimizerFile));
        writeExtra?.Invoke(temp);
        state.Save(Path.Combine(temp, StateFile)); // written last: its presence marks a complete checkpoint
        if (Directory.Exists(final)) Directory.Delete(final, true);
        Directory.Move(temp, final);
        if (keep > 0)
            foreach (var old in All(outputDir).SkipLast(keep)) Directory.Delete(old.Path, true);
    }

    /// <summary>Complete checkpoints, oldest first.</summary>
    public static IEnumerable<(long Step, string Path)> All(string outputDir)
    {
        if (!Directory.Exists(outputDir)) return [];
        return Directory.EnumerateDirectories(outputDir)
            .Select(d => (Match: Name().Match(Path.GetFileName(d)), Path: d))
            .Where(x => x.Match.Success && File.Exists(System.IO.Path.Combine(x.Path, StateFile)))
            .Select(x => (long.Parse(x.Match.Groups[1].Value), x.Path))
            .OrderBy(x => x.Item1);
    }

    public static string? Latest(string outputDir) => All(outputDir).Select(x => x.Path).LastOrDefault();

    public static TrainerState Restore(string folder, TrainableModel model, Optimizer optimizer, out IReadOnlyDictionary<string, ulong[]> rngStates)
    {
        var state = TrainerState.Load(Path.Combine(folder, StateFile));
        model.Restore(folder);
        optimizer.LoadState(Path.Combine(folder, OptimizerFile));
        rngStates = state.RngStates;
        return state;
    }

    [GeneratedRegex(@"^checkpoint-(\d+)$")]
    private static partial Regex Name();
}
