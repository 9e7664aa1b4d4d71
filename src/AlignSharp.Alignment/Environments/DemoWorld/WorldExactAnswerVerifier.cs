using AlignSharp.Feedback;
using System.Text.RegularExpressions;

namespace AlignSharp.Alignment.Environments.DemoWorld;

/// <summary>
/// Checks a word answer: applies when the prompt's "answer" metadata is present and not a number (numbers are
/// <see cref="WorldNumericAnswerVerifier"/>'s), and scores 1 when the answer appears in the response as a whole word or
/// phrase, case-insensitive ("Quenport" matches "quenport." but not "Quenports"), else 0.
/// </summary>
public sealed class WorldExactAnswerVerifier : ISignalSource
{
    public string Name => "exact_answer";

    /// <summary>Bump the version when the check changes, so cached labels of the old check are not reused.</summary>
    public string Fingerprint => SignalFingerprint.Of(Name, 1);

    public FeedbackLabel? Score(PromptRecord prompt, string response)
    {
        if (prompt.Get("answer") is not { } raw || raw.Trim() is not { Length: > 0 } answer) return null;
        if (WorldNumericAnswerVerifier.ParseExact(answer) is not null) return null;
        bool found = Regex.IsMatch(response, $@"(?<!\w){Regex.Escape(answer)}(?!\w)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        return new FeedbackLabel(found ? 1 : 0,
            found ? $"contains the answer \"{answer}\"" : $"does not contain the answer \"{answer}\" as a whole word",
            new Provenance(Name, SignalKind.Verifier));
    }
}
