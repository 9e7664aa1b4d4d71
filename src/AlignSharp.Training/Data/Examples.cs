namespace AlignSharp.Training.Data;

/// <summary>
/// A tokenized SFT example. <paramref name="Labels"/> has the length of <paramref name="InputIds"/>: the token itself
/// where it carries loss, <see cref="AlignSharp.Tensors.Ops.IgnoreIndex"/> (−100) where it does not. Labels are not
/// shifted: the loss compares the logits at position t−1 with <c>Labels[t]</c>.
/// </summary>
public sealed record SftExample(int[] InputIds, int[] Labels)
{
    /// <summary>Tokens that carry loss.</summary>
    public int TrainedTokens => Labels.Count(l => l != AlignSharp.Tensors.Ops.IgnoreIndex);
}

/// <summary>
/// A tokenized preference pair: the prompt, and the chosen and rejected completions (completion tokens only, each to be
/// appended to the prompt). Standard rows end their completions with EOS; conversational ones end as the template ends a turn.
/// </summary>
public sealed record PreferenceExample(int[] Prompt, int[] Chosen, int[] Rejected)
{
    /// <summary>The row's <c>"margin"</c>, if it has one (reward models only).</summary>
    public float? Margin { get; init; }
}

/// <summary>A tokenized unpaired-preference (KTO) example; <paramref name="Label"/> true marks a desirable completion.</summary>
public sealed record UnpairedExample(int[] Prompt, int[] Completion, bool Label);
