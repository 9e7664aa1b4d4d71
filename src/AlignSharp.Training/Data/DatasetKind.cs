namespace AlignSharp.Training.Data;

/// <summary>
/// The TRL dataset formats (https://huggingface.co/docs/trl/dataset_formats), told apart by their keys. Each kind
/// comes in a standard form (strings) and a conversational form (lists of {role, content} messages).
/// </summary>
public enum DatasetKind
{
    /// <summary><c>text</c> (standard) or <c>messages</c> (conversational): SFT / pretraining.</summary>
    LanguageModeling,

    /// <summary><c>prompt</c> only: the input of online methods (GRPO, RLOO, PPO, online DPO) that generate their own completions.</summary>
    PromptOnly,

    /// <summary><c>prompt</c> + <c>completion</c>: SFT with completion-only loss.</summary>
    PromptCompletion,

    /// <summary><c>prompt</c> + <c>chosen</c> + <c>rejected</c>, or <c>chosen</c> + <c>rejected</c> sharing an implicit prompt: DPO family, reward models, ORPO, SimPO.</summary>
    Preference,

    /// <summary><c>prompt</c> + <c>completion</c> + <c>label</c> (bool): KTO.</summary>
    UnpairedPreference,
}

/// <summary>The dataset keys of each <see cref="DatasetKind"/>, for messages.</summary>
internal static class DatasetKindNames
{
    public static string Describe(DatasetKind kind) => kind switch
    {
        DatasetKind.LanguageModeling => "language-modeling (\"text\" or \"messages\")",
        DatasetKind.PromptOnly => "prompt-only (\"prompt\")",
        DatasetKind.PromptCompletion => "prompt-completion (\"prompt\" + \"completion\")",
        DatasetKind.Preference => "preference (\"prompt\" + \"chosen\" + \"rejected\")",
        DatasetKind.UnpairedPreference => "unpaired-preference (\"prompt\" + \"completion\" + \"label\")",
        _ => kind.ToString(),
    };
}
