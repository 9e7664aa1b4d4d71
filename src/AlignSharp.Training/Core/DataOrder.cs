using AlignSharp.Tensors;

namespace AlignSharp.Training.Core;

/// <summary>
/// The order examples are visited in: a fresh seeded shuffle per epoch (Fisher–Yates on <see cref="Rng"/> seeded
/// from the run seed and the epoch), so the order is reproducible and a resumed run can jump to any position.
/// </summary>
public sealed class DataOrder(int count, ulong seed)
{
    private int _epochCached = -1;
    private int[] _order = [];

    public int Count => count;

    public int[] ForEpoch(int epoch)
    {
        if (epoch == _epochCached) return _order;
        var order = Enumerable.Range(0, count).ToArray();
        var rng = new Rng(seed * 1_000_003UL + (ulong)epoch);
        for (int i = count - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        _epochCached = epoch;
        return _order = order;
    }

    /// <summary>The next <paramref name="size"/> example indices from (epoch, position), wrapping into later epochs.</summary>
    public int[] Take(ref int epoch, ref int position, int size)
    {
        var batch = new int[size];
        for (int i = 0; i < size; i++)
        {
            if (position >= count) { epoch++; position = 0; }
            batch[i] = ForEpoch(epoch)[position++];
        }
        return batch;
    }
}
