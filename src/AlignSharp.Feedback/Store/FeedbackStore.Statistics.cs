namespace AlignSharp.Feedback.Store;

public sealed partial class FeedbackStore
{
    /// <summary>
    /// Counts, labels per source (with the mean score and the not-applicable and unparsable counts), the agreement
    /// between every two sources on the items both scored (unparsable labels left out), a score ≥
    /// <paramref name="threshold"/> counting as good, and each pairwise judge's verdicts and position bias.
    /// </summary>
    public StoreStatistics Statistics(double threshold = 0.5) => Guard(() =>
    {
        var sources = new List<SourceSummary>();
        using (var command = Command("""
            SELECT fingerprint, source, count(*), count(*) - count(score) - sum(unparsable), avg(score), min(id), sum(unparsable)
            FROM labels GROUP BY fingerprint ORDER BY min(id)
            """))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
                sources.Add(new SourceSummary(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt32(3), reader.IsDBNull(4) ? null : reader.GetDouble(4), reader.GetInt32(6)));
        }
        var names = sources.ToDictionary(s => s.Fingerprint, s => s.Source);
        var order = sources.Select((s, i) => (s.Fingerprint, i)).ToDictionary(x => x.Fingerprint, x => x.i);
        var tables = new Dictionary<(string A, string B), int[]>();  // [both good, only A good, only B good, both bad]
        using (var command = Command("""
            SELECT a.fingerprint, b.fingerprint, a.score >= $t, b.score >= $t, count(*)
            FROM labels a JOIN labels b ON a.item = b.item AND a.fingerprint < b.fingerprint
            WHERE a.score IS NOT NULL AND b.score IS NOT NULL
            GROUP BY 1, 2, 3, 4
            """, ("$t", threshold)))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                // Pairs are listed in the order the sources were first stored, whatever their fingerprints' sort order.
                string x = reader.GetString(0), y = reader.GetString(1);
                bool gx = reader.GetInt64(2) != 0, gy = reader.GetInt64(3) != 0;
                var (a, b, ga, gb) = order[x] < order[y] ? (x, y, gx, gy) : (y, x, gy, gx);
                if (!tables.TryGetValue((a, b), out var t)) tables[(a, b)] = t = new int[4];
                t[ga ? (gb ? 0 : 1) : (gb ? 2 : 3)] += reader.GetInt32(4);
            }
        }
        var agreements = tables.OrderBy(kv => order[kv.Key.A]).ThenBy(kv => order[kv.Key.B])
            .Select(kv => new SourceAgreement(kv.Key.A, names[kv.Key.A], kv.Key.B, names[kv.Key.B], kv.Value[0], kv.Value[1], kv.Value[2], kv.Value[3]))
            .ToList();
        int generations = (int)Scalar<long>("SELECT count(*) FROM generations");
        var judges = new List<(string Fingerprint, string Judge, int Verdicts, int Unparsable)>();
        using (var command = Command("""
            SELECT fingerprint, judge, count(*), sum(preferred = 'unparsable'), min(id)
            FROM verdicts GROUP BY fingerprint ORDER BY min(id)
            """))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read()) judges.Add((reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt32(3)));
        }
        var pairwise = judges.Select(j => new PairwiseSummary(j.Fingerprint, j.Judge, j.Verdicts, j.Unparsable, PositionBiasOf(j.Fingerprint))).ToList();
        return new StoreStatistics(generations, sources.Sum(s => s.Labels), sources, agreements, threshold, pairwise);
    });
}
