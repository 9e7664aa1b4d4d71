namespace AlignSharp.Models.Generation;

/// <summary>
/// Prompts of different lengths as one batch [B, T], left-padded: row b's prompt ends at the last column, so every
/// row's next token is predicted at the same position; padding repeats the row's first id, is masked out (0), and
/// positions count the real tokens only (a row's logits equal the prompt's alone).
/// </summary>
public sealed record LeftPaddedBatch(int[] Ids, float[] Mask, int[] Positions, int Batch, int Length)
{
    public static LeftPaddedBatch Of(IReadOnlyList<int[]> prompts)
    {
        int batch = prompts.Count, length = prompts.Max(p => p.Length);
        var ids = new int[batch * length];
        var mask = new float[batch * length];
        var positions = new int[batch * length];
        for (int b = 0; b < batch; b++)
        {
            int pad = length - prompts[b].Length;
            for (int t = 0; t < length; t++)
            {
                bool real = t >= pad;
                ids[b * length + t] = real ? prompts[b][t - pad] : prompts[b][0];
                mask[b * length + t] = real ? 1f : 0f;
                positions[b * length + t] = real ? t - pad : 0;
            }
        }
        return new LeftPaddedBatch(ids, mask, positions, batch, length);
    }
}
