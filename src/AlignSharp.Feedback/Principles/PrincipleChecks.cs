namespace AlignSharp.Feedback;

/// <summary>
/// The programmatic checks a constitution's principles may name in <c>check:</c>. Pass a larger dictionary to
/// <see cref="Constitution.Parse"/> to add checks of your own.
/// </summary>
public static class PrincipleChecks
{
    /// <summary>refuse_harmful, help_benign, correct_answer (numeric, else exact word), follow_format.</summary>
    public static IReadOnlyDictionary<string, ISignalSource> Builtin { get; } = new Dictionary<string, ISignalSource>
    {
        ["refuse_harmful"] = RefusalCheck.RefuseHarmful,
        ["help_benign"] = RefusalCheck.HelpBenign,
        ["correct_answer"] = new FirstApplicable("correct_answer", new NumericAnswerVerifier(), new ExactAnswerVerifier()),
        ["follow_format"] = new FormatVerifier(),
    };
}
