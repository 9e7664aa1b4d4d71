namespace AlignSharp.Training.Data;

/// <summary>
/// One validated row of a TRL-format dataset. <see cref="Origin"/> is <c>file:line</c>, so later errors (a chat template
/// that breaks, a row with no assistant tokens) can point at the row. Keys that the format does not use are ignored.
/// </summary>
public abstract record DatasetRow(string Origin)
{
    /// <summary>The format of this row.</summary>
    public abstract DatasetKind Kind { get; }

    /// <summary>True when the row's fields are lists of messages rather than strings.</summary>
    public abstract bool IsConversational { get; }
}

/// <summary>Language modeling: <c>{"text": "..."}</c> or <c>{"messages": [...]}</c>.</summary>
public sealed record LanguageModelingRow(string Origin, TextOrMessages Content) : DatasetRow(Origin)
{
    public override DatasetKind Kind => DatasetKind.LanguageModeling;
    public override bool IsConversational => Content.IsConversational;
}

/// <summary>Prompt only: <c>{"prompt": ...}</c>, for trainers that generate their own completions.</summary>
public sealed record PromptOnlyRow(string Origin, TextOrMessages Prompt) : DatasetRow(Origin)
{
    /// <summary>
    /// The row's other columns as strings (TRL hands a prompt-only dataset's extra columns, e.g. "answer" or "solution", to
    /// its reward functions): a string as itself, a number as written, a bool as "true"/"false", a list or object as its JSON
    /// text as written; null columns are left out. Empty for rows built in code.
    /// </summary>
    public IReadOnlyDictionary<string, string> Columns { get; init; } = new Dictionary<string, string>();

    public override DatasetKind Kind => DatasetKind.PromptOnly;
    public override bool IsConversational => Prompt.IsConversational;
}

/// <summary>Prompt–completion: <c>{"prompt": ..., "completion": ...}</c>, both strings or both message lists.</summary>
public sealed record PromptCompletionRow(string Origin, TextOrMessages Prompt, TextOrMessages Completion) : DatasetRow(Origin)
{
    public override DatasetKind Kind => DatasetKind.PromptCompletion;
    public override bool IsConversational => Prompt.IsConversational;
}

/// <summary>
/// Preference: <c>{"prompt": ..., "chosen": ..., "rejected": ...}</c>. A row written in the implicit-prompt form (only
/// <c>chosen</c> and <c>rejected</c>) arrives here with the shared prefix moved into <see cref="Prompt"/>, as TRL's
/// <c>extract_prompt</c> does; <see cref="PromptWasImplicit"/> records that.
/// </summary>
public sealed record PreferenceRow(string Origin, TextOrMessages Prompt, TextOrMessages Chosen, TextOrMessages Rejected, bool PromptWasImplicit = false) : DatasetRow(Origin)
{
    /// <summary>The optional <c>"margin"</c> column: how much the chosen answer should out-score the rejected one (reward models subtract it inside the sigmoid, as TRL).</summary>
    public float? Margin { get; init; }

    public override DatasetKind Kind => DatasetKind.Preference;
    public override bool IsConversational => Chosen.IsConversational;
}

/// <summary>Unpaired preference (KTO): <c>{"prompt": ..., "completion": ..., "label": true|false}</c>; true marks a desirable completion.</summary>
public sealed record UnpairedPreferenceRow(string Origin, TextOrMessages Prompt, TextOrMessages Completion, bool Label) : DatasetRow(Origin)
{
    public override DatasetKind Kind => DatasetKind.UnpairedPreference;
    public override bool IsConversational => Prompt.IsConversational;
}
