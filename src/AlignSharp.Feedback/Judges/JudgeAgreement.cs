using AlignSharp.Feedback.Store;

namespace AlignSharp.Feedback.Judges;

/// <summary>
/// Judge quality, measured rather than assumed: on items two sources both scored (readable scores only), each score
/// binarised as good (≥ threshold) or bad, the 2×2 table, the accuracy of source A when B is the reference (a
/// verifier, or a world's ground truth) — the share of items they agree on — and Cohen's κ (Cohen 1960), which
/// discounts the agreement two sources would reach by chance from their rates of "good" alone. The same numbers
/// <c>alignsharp store stats</c> prints, for reports and tests.
/// </summary>
public static class JudgeAgreement
{
    /// <summary>
    /// Agreement of two label lists over the same items (<paramref name="judge"/>[i] and <paramref name="reference"/>[i]
    /// score item i); items either source did not score — null, or an unparsable answer — are left out.
    /// </summary>
    public static SourceAgreement Of(IReadOnlyList<FeedbackLabel?> judge, IReadOnlyList<FeedbackLabel?> reference, double threshold = 0.5,
        string judgeName = "judge", string referenceName = "reference")
    {
        if (judge.Count != reference.Count) throw new ArgumentException($"{judge.Count} judge labels for {reference.Count} reference labels");
        int bothGood = 0, onlyJudge = 0, onlyReference = 0, bothBad = 0;
        for (int i = 0; i < judge.Count; i++)
        {
            if (!judge[i].IsScored() || !reference[i].IsScored()) continue;
            bool j = judge[i]!.Score >= threshold, r = reference[i]!.Score >= threshold;
            if (j && r) bothGood++;
            else if (j) onlyJudge++;
            else if (r) onlyReference++;
            else bothBad++;
        }
        return new SourceAgreement(judgeName, judgeName, referenceName, referenceName, bothGood, onlyJudge, onlyReference, bothBad);
    }

    /// <summary>
    /// Agreement of two sources in a store (each a name or fingerprint) on the items both scored; null when they share
    /// no scored item. The pair is given in the order asked, whatever order the store lists it in.
    /// </summary>
    /// <exception cref="FeedbackException">A name matches no source, or a name matches several fingerprints.</exception>
    public static SourceAgreement? Between(FeedbackStore store, string judge, string reference, double threshold = 0.5)
    {
        var stats = store.Statistics(threshold);
        string a = Resolve(stats, judge, store.Path), b = Resolve(stats, reference, store.Path);
        foreach (var agreement in stats.Agreements)
        {
            if (agreement.FingerprintA == a && agreement.FingerprintB == b) return agreement;
            if (agreement.FingerprintA == b && agreement.FingerprintB == a)
                return new SourceAgreement(a, agreement.SourceB, b, agreement.SourceA, agreement.BothGood, agreement.OnlyBGood, agreement.OnlyAGood, agreement.BothBad);
        }
        return null;
    }

    /// <summary>The fingerprint a source name or fingerprint names in a store.</summary>
    static string Resolve(StoreStatistics stats, string nameOrFingerprint, string path)
    {
        if (stats.Sources.Any(s => s.Fingerprint == nameOrFingerprint)) return nameOrFingerprint;
        var named = stats.Sources.Where(s => s.Source == nameOrFingerprint).ToList();
        return named.Count switch
        {
            1 => named[0].Fingerprint,
            0 => throw new FeedbackException($"{path}: no source named '{nameOrFingerprint}'; known: {string.Join(", ", stats.Sources.Select(s => s.Source).Distinct())}"),
            _ => throw new FeedbackException($"{path}: '{nameOrFingerprint}' names {named.Count} fingerprints ({string.Join(", ", named.Select(s => s.Fingerprint))}); give one of them"),
        };
    }
}
