namespace AlignSharp.Feedback;

/// <summary>A preference between two responses to one prompt, with the labels that decided it.</summary>
/// <param name="Prompt">The prompt both respond to.</param>
/// <param name="Chosen">The preferred response.</param>
/// <param name="Rejected">The other response.</param>
/// <param name="ChosenLabel">The chosen response's label.</param>
/// <param name="RejectedLabel">The rejected response's label.</param>
public sealed record PreferencePair(PromptRecord Prompt, string Chosen, string Rejected, FeedbackLabel ChosenLabel, FeedbackLabel RejectedLabel)
{
    /// <summary>Score margin chosen − rejected (a Bradley–Terry margin for reward models).</summary>
    public double Margin => ChosenLabel.Score - RejectedLabel.Score;
}

/// <summary>One response labelled desirable or not (KTO's unpaired format), with the label that decided it.</summary>
public sealed record UnpairedLabel(PromptRecord Prompt, string Completion, bool Desirable, FeedbackLabel Label);
