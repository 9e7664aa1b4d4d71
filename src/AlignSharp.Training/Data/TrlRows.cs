using AlignSharp.Feedback;
using AlignSharp.Feedback.Store;
using Microsoft.Extensions.AI;

namespace AlignSharp.Training.Data;

/// <summary>
/// Dataset rows from the feedback layer's records, for <see cref="TrlJsonlWriter"/>. Conversational rows carry the
/// prompt's messages and the response as one assistant message; standard rows carry the prompt's text and the
/// response as strings, which is only faithful for a prompt of one user turn (others are refused). A row's
/// <see cref="DatasetRow.Origin"/> is <c>prompt ID</c>.
/// </summary>
public static class TrlRows
{
    /// <summary>The prompt as a field: its messages, or (standard) the text of its single user turn.</summary>
    /// <exception cref="TrainingException">Standard form asked for a prompt that is not one user turn.</exception>
    public static TextOrMessages Prompt(PromptRecord prompt, bool conversational = true)
    {
        if (conversational) return TextOrMessages.FromMessages(PromptJson.Messages(prompt.Messages));
        if (prompt.Messages.Count != 1 || prompt.Messages[0].Role != ChatRole.User)
            throw new TrainingException($"prompt {prompt.Id}: has {prompt.Messages.Count} messages ({string.Join(", ", prompt.Messages.Select(m => m.Role.Value))}); "
                + "the standard form holds one user turn as a string, so write it in the conversational form");
        return TextOrMessages.FromText(prompt.Messages[0].Text);
    }

    /// <summary>A response as a field: one assistant message, or (standard) the string.</summary>
    public static TextOrMessages Completion(string response, bool conversational = true) =>
        conversational ? TextOrMessages.FromMessages(("assistant", response)) : TextOrMessages.FromText(response);

    /// <summary>Prompt-only row (online methods: GRPO, RLOO, online DPO).</summary>
    public static PromptOnlyRow PromptOnly(PromptRecord prompt, bool conversational = true) =>
        new(Origin(prompt), Prompt(prompt, conversational));

    /// <summary>Prompt-completion row (SFT with completion-only loss; rejection sampling's best-of-n).</summary>
    public static PromptCompletionRow PromptCompletion(PromptRecord prompt, string completion, bool conversational = true) =>
        new(Origin(prompt), Prompt(prompt, conversational), Completion(completion, conversational));

    /// <summary>Conversational language-modeling row: the prompt's messages followed by the response as the assistant turn.</summary>
    public static LanguageModelingRow Conversation(PromptRecord prompt, string response) =>
        new(Origin(prompt), Prompt(prompt).Concat(Completion(response)));

    /// <summary>Preference row; <paramref name="withMargin"/> adds the score margin chosen − rejected (TRL's reward trainer reads it).</summary>
    public static PreferenceRow Preference(PreferencePair pair, bool conversational = true, bool withMargin = false) =>
        new(Origin(pair.Prompt), Prompt(pair.Prompt, conversational), Completion(pair.Chosen, conversational), Completion(pair.Rejected, conversational))
        {
            Margin = withMargin ? (float)pair.Margin : null,
        };

    /// <summary>Unpaired preference row (KTO): label = desirable.</summary>
    public static UnpairedPreferenceRow Unpaired(UnpairedLabel label, bool conversational = true) =>
        new(Origin(label.Prompt), Prompt(label.Prompt, conversational), Completion(label.Completion, conversational), label.Desirable);

    static string Origin(PromptRecord prompt) => $"prompt {prompt.Id}";
}
