using static AlignSharp.Tensors.Ops;

namespace AlignSharp.Training.Data;

/// <summary>
/// Builds right-padded <see cref="Batch"/>es: T is the longest row (rounded up to <c>padToMultipleOf</c>), shorter rows
/// are filled with the pad id, label −100 and attention 0.
/// </summary>
public static class Collator
{
    /// <summary>An SFT batch: each example one row.</summary>
    public static Batch Sft(IReadOnlyList<SftExample> examples, int padId, int padToMultipleOf = 1) =>
        Pad(examples.Select(e => (e.InputIds, e.Labels)).ToList(), padId, padToMultipleOf);

    /// <summary>A batch of packed rows, with per-row <see cref="Batch.SequenceStarts"/> and restarting <see cref="Batch.PositionIds"/> (0 on padding).</summary>
    public static Batch Packed(IReadOnlyList<PackedSequence> rows, int padId, int padToMultipleOf = 1)
    {
        var batch = Pad(rows.Select(r => (r.InputIds, r.Labels)).ToList(), padId, padToMultipleOf);
        var positions = new int[batch.B * batch.T];
        for (int b = 0; b < rows.Count; b++) rows[b].PositionIds().CopyTo(positions, b * batch.T);
        return batch with { PositionIds = positions, SequenceStarts = rows.Select(r => r.SequenceStarts).ToArray() };
    }

    /// <summary>2B rows: prompt + chosen for every pair, then prompt + rejected for every pair (TRL's concatenated_forward).</summary>
    public static PreferenceBatch Preference(IReadOnlyList<PreferenceExample> pairs, int padId, int padToMultipleOf = 1)
    {
        var rows = new List<(int[], int[])>(2 * pairs.Count);
        var promptLengths = new int[2 * pairs.Count];
        var completionLengths = new int[2 * pairs.Count];
        for (int side = 0; side < 2; side++)
            for (int i = 0; i < pairs.Count; i++)
            {
                var p = pairs[i];
                var completion = side == 0 ? p.Chosen : p.Rejected;
                rows.Add(PromptCompletionRow(p.Prompt, completion));
                promptLengths[side * pairs.Count + i] = p.Prompt.Length;
                completionLengths[side * pairs.Count + i] = completion.Length;
            }
        return new PreferenceBatch(Pad(rows, padId, padToMultipleOf), pairs.Count, promptLengths, completionLengths);
    }

    /// <summary>
    /// A KTO batch: the matched rows, and the mismatched rows where prompt i meets the completion of example (i − 1 + B) mod B
    /// (TRL's rotation by one). Mismatched rows are cut by <paramref name="truncation"/> as the matched ones were. With B = 1
    /// the mismatched row is the matched one, so the KL estimate is meaningless; TRL requires B &gt; 1.
    /// </summary>
    public static UnpairedBatch Unpaired(IReadOnlyList<UnpairedExample> examples, int padId, TruncationOptions? truncation = null, int padToMultipleOf = 1)
    {
        int n = examples.Count;
        truncation ??= TruncationOptions.None;
        var matched = new List<(int[], int[])>(n); var mismatched = new List<(int[], int[])>(n);
        var lengths = new int[n]; var klLengths = new int[n]; var sources = new int[n];
        for (int i = 0; i < n; i++)
        {
            var e = examples[i];
            matched.Add(PromptCompletionRow(e.Prompt, e.Completion));
            lengths[i] = e.Completion.Length;
            sources[i] = (i - 1 + n) % n;
            var (prompt, completions) = truncation.Apply(e.Prompt, examples[sources[i]].Completion);
            mismatched.Add(PromptCompletionRow(prompt, completions[0]));
            klLengths[i] = completions[0].Length;
        }
        return new UnpairedBatch(Pad(matched, padId, padToMultipleOf), examples.Select(e => e.Label).ToArray(), lengths,
            Pad(mismatched, padId, padToMultipleOf), klLengths, sources);
    }

    static (int[] Ids, int[] Labels) PromptCompletionRow(int[] prompt, int[] completion)
    {
        int[] ids = [.. prompt, .. completion];
        var labels = (int[])ids.Clone();
        Array.Fill(labels, IgnoreIndex, 0, prompt.Length);
        return (ids, labels);
    }

    static Batch Pad(List<(int[] Ids, int[] Labels)> rows, int padId, int padToMultipleOf)
    {
        if (rows.Count == 0) throw new ArgumentException("cannot collate an empty batch", nameof(rows));
        if (padToMultipleOf < 1) throw new ArgumentOutOfRangeException(nameof(padToMultipleOf), padToMultipleOf, "must be at least 1");
        int B = rows.Count;
        int longest = Math.Max(1, rows.Max(r => r.Ids.Length));
        int T = (longest + padToMultipleOf - 1) / padToMultipleOf * padToMultipleOf;
        var ids = new int[B * T];      // [B, T]
        var labels = new int[B * T];   // [B, T]
        var mask = new float[B * T];   // [B, T]
        Array.Fill(ids, padId);
        Array.Fill(labels, IgnoreIndex);
        var lengths = new int[B];
        for (int b = 0; b < B; b++)
        {
            var (rowIds, rowLabels) = rows[b];
            if (rowIds.Length != rowLabels.Length) throw new ArgumentException($"row {b}: {rowIds.Length} ids but {rowLabels.Length} labels");
            rowIds.CopyTo(ids, b * T);
            rowLabels.CopyTo(labels, b * T);
            mask.AsSpan(b * T, rowIds.Length).Fill(1f);
            lengths[b] = rowIds.Length;
        }
        return new Batch(ids, labels, mask, B, T) { RowLengths = lengths };
    }
}
