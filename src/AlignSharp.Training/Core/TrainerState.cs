using System.Text.Json;

namespace AlignSharp.Training.Core;

/// <summary>
/// trainer_state.json of a checkpoint: where training stands (optimizer step, epoch and position in the data
/// order) and the state of every random generator, so a resumed run continues exactly where the killed one was.
/// </summary>
public sealed record TrainerState
{
    public long GlobalStep { get; init; }
    public int Epoch { get; init; }
    /// <summary>Index of the next example within the epoch's order.</summary>
    public int Position { get; init; }
    public Dictionary<string, ulong[]> RngStates { get; init; } = new();
    /// <summary>The last step's loss (mean over its micro-batches).</summary>
    public double LastLoss { get; init; }
    /// <summary>The loss as last logged (mean over the last logging window), what a run reports as its final loss.</summary>
    public double LoggedLoss { get; init; } = double.NaN;
    /// <summary>Training time up to this checkpoint, over every part of a resumed run, so the reported time counts them all.</summary>
    public double ElapsedSeconds { get; init; }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json));

    public static TrainerState Load(string path)
    {
        try { return JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(path), Json) ?? throw new TrainingException($"{path}: empty trainer state"); }
        catch (JsonException e) { throw new TrainingException($"{path}: corrupt trainer state ({e.Message}); delete this checkpoint folder to resume from the previous one"); }
    }
}
