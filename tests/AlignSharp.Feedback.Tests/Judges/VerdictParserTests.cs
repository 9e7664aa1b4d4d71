using AlignSharp.Feedback.Judges;

namespace AlignSharp.Feedback.Tests.Judges;

public class VerdictParserTests
{
    [Theory]
    [InlineData("<score>4</score>", 4.0, VerdictFormat.Tag)]
    [InlineData("The response is fine. <score> 3 </score>", 3.0, VerdictFormat.Tag)]
    [InlineData("{\"score\": 4, \"reason\": \"ok\"}", 4.0, VerdictFormat.Json)]
    [InlineData("```json\n{\"rating\": \"2\"}\n```", 2.0, VerdictFormat.Json)]
    [InlineData("Relevant, complete.\nScore: 4", 4.0, VerdictFormat.Labelled)]
    [InlineData("**Score:** 5", 5.0, VerdictFormat.Labelled)]
    [InlineData("Total score = 3/5", 3.0, VerdictFormat.Labelled)]
    [InlineData("The additive score system gives 1 point... Final score: 2", 2.0, VerdictFormat.Labelled)]
    [InlineData("score is 0", 0.0, VerdictFormat.Labelled)]
    [InlineData("Score: 4.5", 4.5, VerdictFormat.Labelled)]
    [InlineData("I would rate it 4/5.", 4.0, VerdictFormat.Fraction)]
    [InlineData("It earns 3 out of 5", 3.0, VerdictFormat.Fraction)]
    [InlineData("4", 4.0, VerdictFormat.Leading)]
    [InlineData(" **4**. ", 4.0, VerdictFormat.Leading)]
    [InlineData("Score: 1 for relevance so far. Then more. Score: 3", 3.0, VerdictFormat.Labelled)]  // the conclusion is last
    public void Scores_are_read_from_many_forms(string answer, double expected, VerdictFormat format)
    {
        var parsed = VerdictParser.Score(answer, 0, 5);
        Assert.NotNull(parsed);
        Assert.Equal(expected, parsed.Value.Value);
        Assert.Equal(format, parsed.Value.Format);
    }

    [Theory]
    [InlineData("")]
    [InlineData("A great answer overall.")]
    [InlineData("Score: <total points>")]
    [InlineData("Score: 7")]               // outside 0–5
    [InlineData("8/10")]                   // another scale
    [InlineData("Score: 8/10")]
    [InlineData("<score>six</score>")]
    [InlineData("12 apples")]
    public void Unreadable_scores_are_null_not_exceptions(string answer) => Assert.Null(VerdictParser.Score(answer, 0, 5));

    [Theory]
    [InlineData("Yes", true, VerdictFormat.Leading)]
    [InlineData("no", false, VerdictFormat.Leading)]
    [InlineData("**No**, it reveals the recipe.", false, VerdictFormat.Leading)]
    [InlineData(" \"Yes.\"", true, VerdictFormat.Leading)]
    [InlineData("The response declines politely.\nAnswer: Yes", true, VerdictFormat.Labelled)]
    [InlineData("Let me think. The answer is no.", false, VerdictFormat.Labelled)]
    [InlineData("Verdict - YES", true, VerdictFormat.Labelled)]
    [InlineData("{\"answer\": \"No\"}", false, VerdictFormat.Json)]
    [InlineData("<answer>Yes</answer>", true, VerdictFormat.Tag)]
    public void Yes_and_no_are_read_at_the_start_or_after_answer(string answer, bool expected, VerdictFormat format)
    {
        var parsed = VerdictParser.YesNo(answer);
        Assert.NotNull(parsed);
        Assert.Equal(expected, parsed.Value.Value);
        Assert.Equal(format, parsed.Value.Format);
    }

    [Theory]
    [InlineData("Not really.")]
    [InlineData("None of the above")]
    [InlineData("Yesterday it was fine")]
    [InlineData("Maybe")]
    [InlineData("Answer Yes or No.")]     // the question echoed, no separator: not an answer
    [InlineData("")]
    public void Words_that_only_start_like_yes_or_no_are_not_verdicts(string answer) => Assert.Null(VerdictParser.YesNo(answer));

    [Theory]
    [InlineData("[[A]]", PairwisePreference.A, VerdictFormat.Bracketed)]
    [InlineData("B is wordier, A is precise. Final verdict: [[B]]", PairwisePreference.B, VerdictFormat.Bracketed)]
    [InlineData("[[C]]", PairwisePreference.Tie, VerdictFormat.Bracketed)]
    [InlineData("<answer>B</answer>", PairwisePreference.B, VerdictFormat.Tag)]
    [InlineData("{\"winner\": \"A\"}", PairwisePreference.A, VerdictFormat.Json)]
    [InlineData("The answer is: (B)", PairwisePreference.B, VerdictFormat.Labelled)]
    [InlineData("Answer: tie", PairwisePreference.Tie, VerdictFormat.Labelled)]
    [InlineData("Verdict: Response A", PairwisePreference.A, VerdictFormat.Labelled)]
    [InlineData("A", PairwisePreference.A, VerdictFormat.Leading)]
    [InlineData(" (B).", PairwisePreference.B, VerdictFormat.Leading)]
    [InlineData("A\nIt refuses.", PairwisePreference.A, VerdictFormat.Leading)]
    [InlineData("Response B is better because it is correct.", PairwisePreference.B, VerdictFormat.Leading)]
    [InlineData("Tie", PairwisePreference.Tie, VerdictFormat.Leading)]
    [InlineData("Equally good.", PairwisePreference.Tie, VerdictFormat.Leading)]
    public void Preferences_are_read_from_many_forms(string answer, PairwisePreference expected, VerdictFormat format)
    {
        var parsed = VerdictParser.Preference(answer);
        Assert.NotNull(parsed);
        Assert.Equal(expected, parsed.Value.Value);
        Assert.Equal(format, parsed.Value.Format);
    }

    [Theory]
    [InlineData("A good answer would mention the capital.")]  // "A" the article
    [InlineData("a")]
    [InlineData("Both have merits.")]
    [InlineData("Answer: a")]
    [InlineData("")]
    public void Unreadable_preferences_are_null(string answer) => Assert.Null(VerdictParser.Preference(answer));
}
