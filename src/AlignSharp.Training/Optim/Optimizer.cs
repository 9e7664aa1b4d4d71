using AlignSharp.Models.Checkpoints;
using AlignSharp.Tensors;

namespace AlignSharp.Training.Optim;

/// <summary>
/// Updates parameters from their accumulated gradients. State (moments, step count) round-trips through
/// <see cref="SaveState"/>/<see cref="LoadState"/> so a resumed run continues bit for bit.
/// </summary>
public abstract class Optimizer
{
    public IReadOnlyList<TrainableParameter> Parameters { get; }
    /// <summary>Number of updates taken.</summary>
    public long Steps { get; protected set; }

    protected Optimizer(IReadOnlyList<TrainableParameter> parameters)
    {
        if (parameters.Count == 0) throw new ArgumentException("optimizer: no trainable parameters");
        var duplicate = parameters.GroupBy(p => p.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"optimizer: parameter '{duplicate.Key}' is given twice");
        Parameters = parameters;
    }

    /// <summary>One update at learning rate <paramref name="lr"/>; parameters without a gradient are left alone.</summary>
    public abstract void Step(float lr);

    public void ZeroGrad()
    {
        foreach (var p in Parameters) p.Tensor.ZeroGrad();
    }

    /// <summary>The first parameter or state tensor holding a NaN or infinity (e.g. "exp_avg_sq.model.norm.weight"), or null when all are finite.</summary>
    public string? FirstNonFinite()
    {
        foreach (var p in Parameters)
            if (!Finite.All(p.Tensor.Span)) return p.Name;
        foreach (var (name, values) in State())
            if (!Finite.All(values)) return name;
        return null;
    }

    /// <summary>State tensors by name (e.g. "exp_avg.model.norm.weight").</summary>
    protected abstract IEnumerable<(string Name, float[] Values)> State();

    public void SaveState(string path)
    {
        var tensors = State().Select(s => new TensorToWrite(s.Name, [s.Values.Length], s.Values.AsMemory())).ToList();
        SafetensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["steps"] = Steps.ToString(), ["optimizer"] = GetType().Name });
    }

    public void LoadState(string path)
    {
        using var file = SafetensorsFile.Open(path);
        if (!file.Metadata.TryGetValue("optimizer", out var kind) || kind != GetType().Name)
            throw new TrainingException($"{path}: optimizer state is for '{kind ?? "unknown"}', not {GetType().Name}");
        foreach (var (name, values) in State())
        {
            if (!file.Contains(name)) throw new TrainingException($"{path}: optimizer state has no '{name}' (was the model or the trainable set changed?)");
            if (file.Info(name).ElementCount != values.Length)
                throw new TrainingException($"{path}: optimizer state '{name}' has {file.Info(name).ElementCount} values, the parameter has {values.Length}");
            file.ReadFloat32(name, values);
        }
        Steps = long.Parse(file.Metadata["steps"]);
    }

    /// <summary>Runs <paramref name="update"/>(parameter index, start, end) over fixed element chunks of every parameter, in parallel.</summary>
    protected void ForEachChunk(Action<int, int, int> update)
    {
        const int Chunk = 1 << 15;
        var work = new List<(int P, int Start, int End)>();
        for (int i = 0; i < Parameters.Count; i++)
        {
            if (Parameters[i].Tensor.Grad is null) continue;
            int n = Parameters[i].Tensor.Length;
            for (int s = 0; s < n; s += Chunk) work.Add((i, s, Math.Min(n, s + Chunk)));
        }
        WorkerPool.Current.For(work.Count, w => update(work[w].P, work[w].Start, work[w].End));
    }
}
