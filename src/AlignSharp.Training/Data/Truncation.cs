namespace AlignSharp.Training.Data;

/// <summary>Which end of a sequence survives truncation (TRL's <c>truncation_mode</c>).</summary>
public enum TruncationMode
{
    /// <summary><c>keep_end</c>: drop tokens from the start, keep the last ones (the end of the prompt, next to the completion).</summary>
    KeepEnd,

    /// <summary><c>keep_start</c>: drop tokens from the end, keep the first ones.</summary>
    KeepStart,
}

/// <summary>
/// Length limits for prompt + completion examples (preference and unpaired preference), as TRL's DPOConfig / KTOConfig
/// name them. Null means no limit. Applied in this order:
/// <list type="number">
/// <item><see cref="MaxPromptLength"/>: the prompt is cut to this many tokens — its last tokens with
/// <see cref="TruncationMode.KeepEnd"/>, its first with <see cref="TruncationMode.KeepStart"/>.</item>
/// <item><see cref="MaxCompletionLength"/>: every completion keeps its first this-many tokens (its EOS may be cut).</item>
/// <item><see cref="MaxLength"/>: when prompt + the longest completion is still longer, then with
/// <see cref="TruncationMode.KeepEnd"/> tokens are dropped from the start of the prompt until it fits (if a completion alone
/// exceeds MaxLength, the prompt becomes empty and the completions keep their first MaxLength tokens); with
/// <see cref="TruncationMode.KeepStart"/> the completions are cut at their end (if the prompt alone exceeds MaxLength, it
/// keeps its first MaxLength tokens and the completions become empty). The prompt is cut once for all completions of a
/// pair, so chosen and rejected always share it.</item>
/// </list>
/// Trainers should drop examples whose completion ended up empty.
/// </summary>
public sealed record TruncationOptions
{
    /// <summary>Most tokens of prompt + completion (TRL's DPO default 1024). Null: no limit.</summary>
    public int? MaxLength { get; init; }

    /// <summary>Most prompt tokens (TRL's DPO default 512). Null: no limit.</summary>
    public int? MaxPromptLength { get; init; }

    /// <summary>Most tokens per completion. Null: no limit.</summary>
    public int? MaxCompletionLength { get; init; }

    /// <summary>Which end of the prompt (and of an over-long sequence) survives. Default <see cref="TruncationMode.KeepEnd"/>, as TRL's.</summary>
    public TruncationMode Mode { get; init; } = TruncationMode.KeepEnd;

    /// <summary>No limits.</summary>
    public static TruncationOptions None { get; } = new();

    /// <summary>Cuts a prompt and its completions (one for KTO, two for a preference pair) by the rules above.</summary>
    public (int[] Prompt, int[][] Completions) Apply(int[] prompt, params int[][] completions)
    {
        if (MaxPromptLength is { } maxPrompt) prompt = Cut(prompt, maxPrompt, Mode);
        if (MaxCompletionLength is { } maxCompletion) completions = completions.Select(c => Cut(c, maxCompletion, TruncationMode.KeepStart)).ToArray();
        if (MaxLength is { } max)
        {
            int longest = completions.Length == 0 ? 0 : completions.Max(c => c.Length);
            if (prompt.Length + longest > max)
            {
                if (Mode == TruncationMode.KeepEnd)
                {
                    prompt = Cut(prompt, Math.Max(0, max - longest), TruncationMode.KeepEnd);
                    completions = completions.Select(c => Cut(c, max, TruncationMode.KeepStart)).ToArray();
                }
                else
                {
                    prompt = Cut(prompt, max, TruncationMode.KeepStart);
                    completions = completions.Select(c => Cut(c, max - prompt.Length, TruncationMode.KeepStart)).ToArray();
                }
            }
        }
        return (prompt, completions);
    }

    /// <summary><paramref name="ids"/> cut to at most <paramref name="max"/> tokens, keeping the end <paramref name="mode"/> names.</summary>
    public static int[] Cut(int[] ids, int max, TruncationMode mode)
    {
        if (max < 0) throw new ArgumentOutOfRangeException(nameof(max), max, "a length limit cannot be negative");
        if (ids.Length <= max) return ids;
        return mode == TruncationMode.KeepEnd ? ids[^max..] : ids[..max];
    }
}
