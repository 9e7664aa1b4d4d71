namespace AlignSharp.Feedback.Store;

/// <summary>What a feedback store holds: generations, labels per source, and how far the sources agree.</summary>
/// <param name="Generations">Stored generations.</param>
/// <param name="Labels">Stored labels, not-applicable ones included.</param>
/// <param name="Sources">One summary per fingerprint, in the order first stored.</param>
/// <param name="Agreements">One entry per pair of fingerprints that labelled a shared (prompt, response) item.</param>
/// <param name="Threshold">The score at or above which a response counts as good for <see cref="Agreements"/>.</param>
/// <param name="PairwiseJudges">One summary per pairwise judge fingerprint with stored verdicts, in the order first stored.</param>
public sealed record StoreStatistics(int Generations, int Labels, IReadOnlyList<SourceSummary> Sources, IReadOnlyList<SourceAgreement> Agreements, double Threshold,
    IReadOnlyList<PairwiseSummary>? PairwiseJudges = null)
{
    /// <summary>The agreements of pairs of sources that share at least <paramref name="minShared"/> scored items.</summary>
    public IEnumerable<SourceAgreement> AgreementsWithAtLeast(int minShared) => Agreements.Where(a => a.Shared >= minShared);
}

/// <summary>The stored verdicts of one pairwise judge.</summary>
/// <param name="Fingerprint">The judge's fingerprint.</param>
/// <param name="Judge">Its name, as first stored.</param>
/// <param name="Verdicts">Questions stored (each order of a pair is one).</param>
/// <param name="Unparsable">Of those, answers that could not be read.</param>
/// <param name="Bias">How often its verdict flips with the order, over the pairs stored in both orders.</param>
public sealed record PairwiseSummary(string Fingerprint, string Judge, int Verdicts, int Unparsable, PositionBias Bias);

/// <summary>The labels of one source fingerprint.</summary>
/// <param name="Fingerprint">The source's fingerprint.</param>
/// <param name="Source">Its name, as first stored.</param>
/// <param name="Labels">Labels stored, not-applicable ones included.</param>
/// <param name="NotApplicable">Items the source does not apply to (null score).</param>
/// <param name="MeanScore">Mean of the applicable, readable scores; null when there is none.</param>
/// <param name="Unparsable">Judge answers that could not be read (kept, not scored).</param>
public sealed record SourceSummary(string Fingerprint, string Source, int Labels, int NotApplicable, double? MeanScore, int Unparsable = 0);

/// <summary>
/// Agreement of two sources on the items both scored (both applicable), each score binarised as good (≥ threshold)
/// or bad: the share of items they agree on, and Cohen's κ = (pₒ − pₑ) / (1 − pₑ), where pₒ is that share and
/// pₑ = p_A·p_B + (1 − p_A)(1 − p_B) the agreement expected by chance from each source's rate of "good"
/// (Cohen 1960, "A coefficient of agreement for nominal scales").
/// </summary>
public sealed record SourceAgreement(string FingerprintA, string SourceA, string FingerprintB, string SourceB, int BothGood, int OnlyAGood, int OnlyBGood, int BothBad)
{
    /// <summary>Items both sources scored.</summary>
    public int Shared => BothGood + OnlyAGood + OnlyBGood + BothBad;

    /// <summary>
    /// pₒ: the share of shared items both call good or both call bad — the accuracy of A when B is the reference
    /// (a verifier, or the world's ground truth).
    /// </summary>
    public double Agreement => Shared == 0 ? double.NaN : (BothGood + BothBad) / (double)Shared;

    /// <summary>Cohen's κ; null when chance agreement is 1 (both sources give every item the same verdict), where κ is undefined.</summary>
    public double? Kappa => CohensKappa(BothGood, OnlyAGood, OnlyBGood, BothBad);

    /// <summary>Cohen's κ of a 2×2 table of counts; null when it is empty or pₑ = 1.</summary>
    public static double? CohensKappa(int bothGood, int onlyAGood, int onlyBGood, int bothBad)
    {
        double n = (double)bothGood + onlyAGood + onlyBGood + bothBad;
        if (n == 0) return null;
        double observed = (bothGood + bothBad) / n;
        double a = (bothGood + onlyAGood) / n, b = (bothGood + onlyBGood) / n;
        double chance = a * b + (1 - a) * (1 - b);
        return chance >= 1 ? null : (observed - chance) / (1 - chance);
    }
}
