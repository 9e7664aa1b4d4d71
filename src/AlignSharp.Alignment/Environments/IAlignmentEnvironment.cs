using AlignSharp.Eval;
using AlignSharp.Feedback;

namespace AlignSharp.Alignment.Environments;

/// <summary>
/// Where an alignment loop's prompts come from and what can be checked about responses to them: demonstrations for
/// supervised fine-tuning, prompts for the alignment rounds, held-out prompts for evaluation, the programmatic checks
/// its constitution's principles may name, and the checks that define its evaluation metrics (the same objects, so
/// training and evaluation share one definition of "refused" and "correct").
/// </summary>
public interface IAlignmentEnvironment
{
    /// <summary>The recipe's name for it (<c>environment:</c>).</summary>
    string Name { get; }

    /// <summary>Prompt and demonstration response pairs for SFT.</summary>
    IReadOnlyList<(PromptRecord Prompt, string Response)> Demonstrations { get; }

    /// <summary>Prompts sampled and scored in the alignment rounds.</summary>
    IReadOnlyList<PromptRecord> TrainPrompts { get; }

    /// <summary>Held-out prompts of the before/after evaluation (never trained on).</summary>
    IReadOnlyList<PromptRecord> EvalPrompts { get; }

    /// <summary>The programmatic checks a constitution's principles may name in <c>check:</c>.</summary>
    IReadOnlyDictionary<string, ISignalSource> Checks { get; }

    /// <summary>The checks that define the evaluation's metrics.</summary>
    AlignmentChecks Evaluation { get; }
}
