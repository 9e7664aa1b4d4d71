using static AlignSharp.Tensors.Ops;

namespace AlignSharp.Training.Data;

/// <summary>
/// One packed row: several SFT examples laid end to end. <paramref name="SequenceStarts"/> are the positions where a
/// sequence begins (always 0 first; a row that begins in the middle of an example counts it as starting at 0), so
/// attention and position ids can be reset there.
/// </summary>
public sealed record PackedSequence(int[] InputIds, int[] Labels, int[] SequenceStarts)
{
    /// <summary>Tokens in the row (= MaxLength for every row but possibly the last).</summary>
    public int Length => InputIds.Length;

    /// <summary>Position ids that restart at 0 at every sequence start.</summary>
    public int[] PositionIds()
    {
        var positions = new int[InputIds.Length];
        for (int s = 0; s < SequenceStarts.Length; s++)
        {
            int start = SequenceStarts[s], end = s + 1 < SequenceStarts.Length ? SequenceStarts[s + 1] : positions.Length;
            for (int t = start; t < end; t++) positions[t] = t - start;
        }
        return positions;
    }
}

/// <summary>
/// Packing for SFT (TRL's <c>packing=True</c>, "wrapped" strategy): examples, in the order given, are concatenated into one
/// stream and cut into rows of exactly <c>maxLength</c> tokens (the last row may be shorter; the collator pads it). An
/// example may continue from one row into the next. Deterministic: same examples, same rows.
/// </summary>
/// <remarks>
/// Labels move with their tokens. The first token of each example gets label −100, as transformers'
/// DataCollatorWithFlattening does: after the shift it would be predicted from the previous example's last token.
/// </remarks>
public static class SequencePacker
{
    /// <param name="examples">SFT examples in training order.</param>
    /// <param name="maxLength">Tokens per packed row.</param>
    /// <param name="eosId">When given, appended (label EOS, or −100 if the example's last label was −100) to any example that does not already end with it.</param>
    public static List<PackedSequence> Pack(IEnumerable<SftExample> examples, int maxLength, int? eosId = null)
    {
        if (maxLength <= 0) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "packing needs a positive max_length");
        var rows = new List<PackedSequence>();
        var ids = new List<int>(maxLength); var labels = new List<int>(maxLength); var starts = new List<int>();
        void Flush()
        {
            if (ids.Count == 0) return;
            if (starts.Count == 0 || starts[0] != 0) starts.Insert(0, 0);
            rows.Add(new PackedSequence(ids.ToArray(), labels.ToArray(), starts.ToArray()));
            ids.Clear(); labels.Clear(); starts.Clear();
        }
        foreach (var example in examples)
        {
            int[] exampleIds = example.InputIds, exampleLabels = example.Labels;
            if (exampleIds.Length == 0) continue;
            if (eosId is { } eos && exampleIds[^1] != eos)
            {
                exampleIds = [.. exampleIds, eos];
                exampleLabels = [.. exampleLabels, exampleLabels[^1] == IgnoreIndex ? IgnoreIndex : eos];
            }
            for (int i = 0; i < exampleIds.Length; i++)
            {
                if (i == 0) starts.Add(ids.Count);
                ids.Add(exampleIds[i]);
                labels.Add(i == 0 ? IgnoreIndex : exampleLabels[i]);
                if (ids.Count == maxLength) Flush();
            }
        }
        Flush();
        return rows;
    }
}
