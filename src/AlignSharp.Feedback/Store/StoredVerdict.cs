namespace AlignSharp.Feedback.Store;

/// <summary>
/// One pairwise question as the feedback store keeps it: which judge (fingerprint and name), the prompt, the two
/// responses in the order they were shown, and the judge's verdict for that order ("A" = the response shown first;
/// <see cref="JudgeVerdict.ProbabilityA"/> = P(first is better), null when the answer was unparsable).
/// </summary>
/// <param name="Key">The content hash (<see cref="VerdictKey.Of"/>).</param>
/// <param name="Fingerprint">The judge's fingerprint.</param>
/// <param name="Judge">The judge's name.</param>
/// <param name="Prompt">The prompt both responses answer.</param>
/// <param name="First">The response shown first, as (A).</param>
/// <param name="Second">The response shown second, as (B).</param>
/// <param name="Verdict">The judge's verdict on this order.</param>
/// <param name="CreatedAt">When it was made.</param>
public sealed record StoredVerdict(string Key, string Fingerprint, string Judge, PromptRecord Prompt, string First, string Second, JudgeVerdict Verdict, DateTimeOffset CreatedAt)
{
    /// <summary>A verdict of the judge <paramref name="fingerprint"/> on (<paramref name="first"/>, <paramref name="second"/>) in that order.</summary>
    public static StoredVerdict For(string fingerprint, string judge, PromptRecord prompt, string first, string second, JudgeVerdict verdict) =>
        new(VerdictKey.Of(fingerprint, prompt, first, second), fingerprint, judge, prompt, first, second, verdict,
            verdict.Provenance.CreatedAt ?? DateTimeOffset.UtcNow);
}

/// <summary>
/// How often a pairwise judge's verdict depends on the order the two responses are shown in (Zheng et al. 2023,
/// "Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena", §3.3 position bias), over the pairs asked in both orders
/// with both answers readable. A verdict flips when the preferred response (A, B or a tie, mapped back to the pair's
/// own order) differs between the two orders.
/// </summary>
/// <param name="Pairs">Pairs asked in both orders with both answers readable.</param>
/// <param name="Flipped">Of those, pairs whose verdict changed with the order.</param>
/// <param name="FirstShownBoth">Pairs where the judge preferred whichever response was shown first, in both orders.</param>
/// <param name="SecondShownBoth">Pairs where it preferred whichever was shown second, in both orders.</param>
public sealed record PositionBias(int Pairs, int Flipped, int FirstShownBoth, int SecondShownBoth)
{
    /// <summary>Flipped / Pairs; NaN when no pair was asked in both orders.</summary>
    public double FlipRate => Pairs == 0 ? double.NaN : Flipped / (double)Pairs;

    /// <summary>The statistic of pairs given as (verdict with A first, verdict with B first), each in the order shown.</summary>
    public static PositionBias Of(IEnumerable<(PairwisePreference AFirst, PairwisePreference BFirst)> pairs)
    {
        int n = 0, flipped = 0, first = 0, second = 0;
        foreach (var (aFirst, bFirst) in pairs)
        {
            if (aFirst == PairwisePreference.Unparsable || bFirst == PairwisePreference.Unparsable) continue;
            n++;
            if (aFirst != Swap(bFirst)) flipped++;
            if (aFirst == PairwisePreference.A && bFirst == PairwisePreference.A) first++;
            if (aFirst == PairwisePreference.B && bFirst == PairwisePreference.B) second++;
        }
        return new PositionBias(n, flipped, first, second);
    }

    /// <summary>A verdict in the order shown, mapped to the other order (A ↔ B; a tie stays a tie).</summary>
    public static PairwisePreference Swap(PairwisePreference p) => p switch
    {
        PairwisePreference.A => PairwisePreference.B,
        PairwisePreference.B => PairwisePreference.A,
        _ => p,
    };
}
