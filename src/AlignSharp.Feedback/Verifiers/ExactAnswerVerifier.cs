using System.Text.RegularExpressions;

namespace AlignSharp.Feedback;

/// <summary>
/// Checks a word answer: applies when the prompt's "answer" metadata is present and not a number (numbers are
/// <see cref="NumericAnswerVerifier"/>'s), and scores 1 when the answer appears in the response as a whole word or
/// phrase, case-insensitive ("Quenport" matches "quenport." but not "Quenports"), else 0.
/// </summary>
public sealed class ExactAnswerVerifier : ISignalSource
{
    public string Name => "exact_answer";

    public FeedbackLabel? Score(PromptRecord prompt, string response)
    {
        if (prompt.Get("answer") is not { } raw || raw.Trim() is not { Length: > 0 } answer) return null;
        if (NumericAnswerVerifier.ParseExact(answer) is not null) return null;
        bool found = Regex.IsMatch(response, $@"(?<!\w){Regex.Escape(answer)}(?!\w)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        return new FeedbackLabel(found ? 1 : 0,
            found ? $"contains the answer \"{answer}\"" : $"does not contain the answer \"{answer}\" as a whole word",
            new Provenance(Name, SignalKind.Verifier));
    }
}
