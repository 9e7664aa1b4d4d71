using AlignSharp.Feedback;
using AlignSharp.Feedback.Verifiers;

namespace AlignSharp.Alignment.Environments.DemoWorld;

/// <summary>
/// Checks a numeric answer: applies when the prompt's "answer" metadata is a number, and scores 1 when the first number
/// in the response equals it, else 0. Numbers are integers or decimals with an optional leading minus and optional
/// thousands separators, as <see cref="ExactAnswerVerifier.FirstNumber"/> reads them. Only the first number counts, so a response
/// that shows working before the result ("6 * 7 = 42") scores 0: the demo world asks for the answer first.
/// </summary>
public sealed class WorldNumericAnswerVerifier : ISignalSource
{
    public string Name => "numeric_answer";

    /// <summary>Bump the version when the check changes, so cached labels of the old check are not reused.</summary>
    public string Fingerprint => SignalFingerprint.Of(Name, 1);

    public FeedbackLabel? Score(PromptRecord prompt, string response)
    {
        if (prompt.Get("answer") is not { } answerText || ParseExact(answerText) is not { } expected) return null;
        var provenance = new Provenance(Name, SignalKind.Verifier);
        var found = FirstNumber(response);
        if (found is null) return new FeedbackLabel(0, $"expected {answerText.Trim()}, found no number", provenance);
        bool correct = found.Value.Value == expected;
        return new FeedbackLabel(correct ? 1 : 0,
            correct ? $"first number {found.Value.Text} equals the answer {answerText.Trim()}"
                    : $"first number {found.Value.Text} differs from the answer {answerText.Trim()}", provenance);
    }

    /// <summary>The first number in the text and how it was written, or null when there is none.</summary>
    public static (decimal Value, string Text)? FirstNumber(string text) => ExactAnswerVerifier.FirstNumber(text);

    /// <summary>The value when the whole text is one number (surrounding spaces allowed), else null.</summary>
    public static decimal? ParseExact(string text) => ExactAnswerVerifier.ParseNumber(text);
}
