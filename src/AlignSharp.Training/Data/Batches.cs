namespace AlignSharp.Training.Data;

/// <summary>
/// B right-padded token rows of length T, row-major. Padding positions have the pad id in <see cref="InputIds"/>,
/// −100 in <see cref="Labels"/> and 0 in <see cref="AttentionMask"/>. Labels are not shifted: the loss compares logits
/// at t−1 with labels at t.
/// </summary>
/// <param name="InputIds">[B·T] token ids.</param>
/// <param name="Labels">[B·T] targets, −100 where no loss is taken.</param>
/// <param name="AttentionMask">[B·T] 1 for real tokens, 0 for padding.</param>
/// <param name="B">Rows.</param>
/// <param name="T">Tokens per row.</param>
public sealed record Batch(int[] InputIds, int[] Labels, float[] AttentionMask, int B, int T)
{
    /// <summary>[B·T] position ids restarting at each packed sequence (null for unpacked batches: positions are 0..T−1).</summary>
    public int[]? PositionIds { get; init; }

    /// <summary>Per row, where packed sequences start (null for unpacked batches).</summary>
    public IReadOnlyList<int[]>? SequenceStarts { get; init; }

    /// <summary>Real (unpadded) tokens of each row.</summary>
    public int[] RowLengths { get; init; } = [];

    /// <summary>Row <paramref name="b"/>'s ids, padding included.</summary>
    public ReadOnlySpan<int> Row(int b) => InputIds.AsSpan(b * T, T);

    /// <summary>Row <paramref name="b"/>'s labels, padding included.</summary>
    public ReadOnlySpan<int> RowLabels(int b) => Labels.AsSpan(b * T, T);
}

/// <summary>
/// A preference batch in TRL's concatenated_forward layout: 2B rows, rows [0, B) are prompt + chosen and rows [B, 2B)
/// prompt + rejected of the same pairs in the same order. Labels are −100 on the prompt and on padding, so the summed
/// log-probability of a row's labels is log π(completion | prompt).
/// </summary>
/// <param name="Sequences">The 2B rows.</param>
/// <param name="Pairs">B, the number of pairs.</param>
/// <param name="PromptLengths">[2B] prompt tokens of each row.</param>
/// <param name="CompletionLengths">[2B] completion tokens (label-carrying tokens) of each row, for length-normalised losses (SimPO, IPO, ORPO).</param>
public sealed record PreferenceBatch(Batch Sequences, int Pairs, int[] PromptLengths, int[] CompletionLengths);

/// <summary>
/// An unpaired-preference (KTO) batch: B prompt + completion rows with their labels, and the B mismatched rows
/// (prompt i + completion of example i−1, cyclically, as TRL's <c>_get_kl_dataset</c>) used to estimate the KL term.
/// </summary>
/// <param name="Sequences">B matched rows, labels −100 on prompt and padding.</param>
/// <param name="Desirable">[B] the examples' labels (true = desirable).</param>
/// <param name="CompletionLengths">[B] completion tokens of each matched row.</param>
/// <param name="KlSequences">B mismatched rows, labels −100 on prompt and padding.</param>
/// <param name="KlCompletionLengths">[B] completion tokens of each mismatched row.</param>
/// <param name="KlCompletionSource">[B] which example's completion each mismatched row uses.</param>
public sealed record UnpairedBatch(Batch Sequences, bool[] Desirable, int[] CompletionLengths, Batch KlSequences, int[] KlCompletionLengths, int[] KlCompletionSource);
