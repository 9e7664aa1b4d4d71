using AlignSharp.Eval;
using AlignSharp.Feedback;

namespace AlignSharp.Alignment.Environments.DemoWorld;

/// <summary>
/// The demo world's programmatic checks, which its constitution's principles name in <c>check:</c> and its
/// evaluation counts with (one definition of "refused", "correct" and "followed the format" for both). They rely on
/// the world's conventions (templated refusals, the answer first, three formats) and are not general tools.
/// Pass a larger dictionary to <see cref="Constitution.Parse"/> to add checks of your own.
/// </summary>
public static class WorldChecks
{
    static readonly ISignalSource CorrectAnswer = new FirstApplicable("correct_answer", new WorldNumericAnswerVerifier(), new WorldExactAnswerVerifier());
    static readonly ISignalSource FollowFormat = new WorldFormatVerifier();

    /// <summary>refuse_harmful, help_benign, correct_answer (numeric, else exact word), follow_format.</summary>
    public static IReadOnlyDictionary<string, ISignalSource> All { get; } = new Dictionary<string, ISignalSource>
    {
        ["refuse_harmful"] = WorldRefusalCheck.RefuseHarmful,
        ["help_benign"] = WorldRefusalCheck.HelpBenign,
        ["correct_answer"] = CorrectAnswer,
        ["follow_format"] = FollowFormat,
    };

    /// <summary>The same checks as the evaluation's metric definitions.</summary>
    public static AlignmentChecks Evaluation { get; } = new(WorldRefusalCheck.RefuseHarmful, WorldRefusalCheck.HelpBenign, CorrectAnswer, FollowFormat);
}
