namespace AlignSharp.Training.Data;

/// <summary>
/// Where a run is in its data: the epoch and the index of the next example in that epoch's order. Serializable
/// (System.Text.Json) so a checkpoint can store it and a killed run resumes at the same example.
/// </summary>
public sealed record DataPosition(int Epoch, int Index)
{
    /// <summary>The beginning: epoch 0, index 0.</summary>
    public static DataPosition Start { get; } = new(0, 0);
}

/// <summary>
/// A seeded, deterministic order over <see cref="Count"/> examples: every epoch is a fresh permutation that depends only
/// on (count, seed, epoch) — not on the .NET version or the machine — so a run restarted from a <see cref="DataPosition"/>
/// sees exactly the examples it would have seen.
/// </summary>
/// <example>
/// <code>
/// var order = new DataOrder(dataset.Count, seed: 42, position: checkpoint.DataPosition);
/// int[] batch = order.NextBatch(8);        // indices into the dataset
/// checkpoint.DataPosition = order.Position;
/// </code>
/// </example>
public sealed class DataOrder
{
    int[] _permutation;

    /// <param name="count">Number of examples (at least 1).</param>
    /// <param name="seed">Shuffle seed.</param>
    /// <param name="shuffle">False keeps the dataset order in every epoch.</param>
    /// <param name="position">Where to resume; null starts at epoch 0, index 0.</param>
    public DataOrder(int count, int seed, bool shuffle = true, DataPosition? position = null)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), count, "a data order needs at least one example");
        Count = count; Seed = seed; Shuffle = shuffle;
        Position = position ?? DataPosition.Start;
        if (Position.Epoch < 0 || Position.Index < 0 || Position.Index > count)
            throw new TrainingException($"data position (epoch {Position.Epoch}, index {Position.Index}) does not fit a dataset of {count} examples; was the checkpoint made with another dataset?");
        _permutation = Order(Position.Epoch);
    }

    /// <summary>Number of examples.</summary>
    public int Count { get; }

    /// <summary>Shuffle seed.</summary>
    public int Seed { get; }

    /// <summary>Whether epochs are shuffled.</summary>
    public bool Shuffle { get; }

    /// <summary>The position of the next example.</summary>
    public DataPosition Position { get; private set; }

    /// <summary>The order of epoch <paramref name="epoch"/>: a permutation of 0..count−1 (Fisher–Yates over SplitMix64 seeded by seed and epoch).</summary>
    public static int[] Permutation(int count, int seed, int epoch)
    {
        var order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        ulong state = ((ulong)(uint)seed << 32 | (uint)epoch) ^ 0x9E3779B97F4A7C15UL;
        for (int i = count - 1; i > 0; i--)
        {
            int j = (int)Math.BigMul(SplitMix64(ref state), (ulong)(i + 1), out _);  // uniform in [0, i]
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>The index of the next example; moves to the next epoch after the last one.</summary>
    public int Next()
    {
        if (Position.Index == Count) StartEpoch(Position.Epoch + 1);
        int example = _permutation[Position.Index];
        Position = Position with { Index = Position.Index + 1 };
        return example;
    }

    /// <summary>
    /// The next up to <paramref name="batchSize"/> indices, all from one epoch: the last batch of an epoch may be smaller
    /// (PyTorch's DataLoader with drop_last=False).
    /// </summary>
    public int[] NextBatch(int batchSize)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "must be positive");
        if (Position.Index == Count) StartEpoch(Position.Epoch + 1);
        int take = Math.Min(batchSize, Count - Position.Index);
        var batch = _permutation.AsSpan(Position.Index, take).ToArray();
        Position = Position with { Index = Position.Index + take };
        return batch;
    }

    void StartEpoch(int epoch)
    {
        _permutation = Order(epoch);
        Position = new DataPosition(epoch, 0);
    }

    int[] Order(int epoch) => Shuffle ? Permutation(Count, Seed, epoch) : Enumerable.Range(0, Count).ToArray();

    static ulong SplitMix64(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
