namespace AlignSharp.Training.Data;

/// <summary>How SFT rows become <see cref="SftExample"/>s (TRL's SFTConfig names in parentheses).</summary>
public sealed record SftOptions
{
    /// <summary>Most tokens per example (<c>max_length</c>; TRL's default 1024). Null: no limit.</summary>
    public int? MaxLength { get; init; }

    /// <summary>Which end of an over-long example survives (<c>truncation_mode</c>). Default <see cref="TruncationMode.KeepStart"/>, as TRL's SFTConfig.</summary>
    public TruncationMode TruncationMode { get; init; } = TruncationMode.KeepStart;

    /// <summary>Prompt–completion rows: train on the completion only, prompt labels −100 (<c>completion_only_loss</c>; TRL's default true).</summary>
    public bool CompletionOnlyLoss { get; init; } = true;

    /// <summary>Conversational <c>messages</c> rows: train on assistant tokens only (<c>assistant_only_loss</c>; TRL's default false).</summary>
    public bool AssistantOnlyLoss { get; init; }
}
