using Microsoft.Data.Sqlite;

namespace AlignSharp.Feedback.Store;

public sealed partial class FeedbackStore
{
    const string VerdictColumns = "key, fingerprint, judge, prompt, first, second, preferred, probability_a, rationale, provenance, created_at";

    /// <summary>Stores pairwise verdicts in one transaction; a verdict whose key is already stored is kept as it was. Returns how many were added.</summary>
    /// <exception cref="FeedbackException">A probability is outside [0, 1], or the store cannot be written.</exception>
    public int PutVerdicts(IEnumerable<StoredVerdict> verdicts)
    {
        var list = verdicts.ToList();
        foreach (var v in list)
            if (v.Verdict.ProbabilityA is { } p && !(p >= 0 && p <= 1))
                throw new FeedbackException($"{Path}: {v.Judge} gave prompt {v.Prompt.Id} P(A) = {p}; a stored probability must be in [0, 1]");
        if (list.Count == 0) return 0;
        return Guard(() =>
        {
            using var transaction = _db.BeginTransaction(deferred: false);
            using var insert = _db.CreateCommand();
            insert.CommandText = """
                INSERT OR IGNORE INTO verdicts (key, pair, fingerprint, judge, prompt_id, prompt, first, second, preferred, probability_a, rationale,
                    provenance, model, template_hash, created_at, elapsed_ms)
                VALUES ($key, $pair, $fingerprint, $judge, $prompt_id, $prompt, $first, $second, $preferred, $probability_a, $rationale,
                    $provenance, $model, $template_hash, $created_at, $elapsed_ms)
                """;
            var p = new Dictionary<string, SqliteParameter>();
            foreach (var name in new[] { "key", "pair", "fingerprint", "judge", "prompt_id", "prompt", "first", "second", "preferred", "probability_a", "rationale",
                         "provenance", "model", "template_hash", "created_at", "elapsed_ms" })
                p[name] = insert.Parameters.Add(new SqliteParameter("$" + name, null));
            int added = 0;
            foreach (var v in list)
            {
                var provenance = v.Verdict.Provenance;
                p["key"].Value = v.Key;
                p["pair"].Value = VerdictKey.Pair(v.Fingerprint, v.Prompt, v.First, v.Second);
                p["fingerprint"].Value = v.Fingerprint;
                p["judge"].Value = v.Judge;
                p["prompt_id"].Value = v.Prompt.Id;
                p["prompt"].Value = PromptJson.Serialize(v.Prompt);
                p["first"].Value = v.First;
                p["second"].Value = v.Second;
                p["preferred"].Value = v.Verdict.Preferred.ToString().ToLowerInvariant();
                p["probability_a"].Value = Db(v.Verdict.ProbabilityA);
                p["rationale"].Value = v.Verdict.Rationale;
                p["provenance"].Value = LabelJson.Serialize(provenance);
                p["model"].Value = Db(provenance.Model);
                p["template_hash"].Value = Db(provenance.TemplateHash);
                p["created_at"].Value = LabelJson.Timestamp(v.CreatedAt);
                p["elapsed_ms"].Value = Db(provenance.ElapsedMs);
                added += insert.ExecuteNonQuery();
            }
            transaction.Commit();
            return added;
        });
    }

    /// <summary>The stored verdicts among <paramref name="keys"/>, by key (one query); keys not stored are absent.</summary>
    public IReadOnlyDictionary<string, StoredVerdict> LookupVerdicts(IEnumerable<string> keys)
    {
        string json = System.Text.Json.JsonSerializer.Serialize(keys.Distinct().ToArray());
        return Guard(() => ReadVerdicts($"SELECT {VerdictColumns} FROM verdicts WHERE key IN (SELECT value FROM json_each($keys))", ("$keys", json))
            .ToDictionary(v => v.Key));
    }

    /// <summary>Every stored verdict in the order stored; with <paramref name="judgeOrFingerprint"/>, only that judge's.</summary>
    public IReadOnlyList<StoredVerdict> Verdicts(string? judgeOrFingerprint = null) => Guard(() => judgeOrFingerprint is null
        ? ReadVerdicts($"SELECT {VerdictColumns} FROM verdicts ORDER BY id")
        : ReadVerdicts($"SELECT {VerdictColumns} FROM verdicts WHERE fingerprint = $j OR judge = $j ORDER BY id", ("$j", judgeOrFingerprint)));

    /// <summary>How many verdicts are stored.</summary>
    public int VerdictCount => Guard(() => (int)Scalar<long>("SELECT count(*) FROM verdicts"));

    /// <summary>
    /// The position-bias statistic of one judge (name or fingerprint) from its stored verdicts: the pairs stored in
    /// both orders, and how often the verdict flipped with the order.
    /// </summary>
    public PositionBias PositionBiasOf(string judgeOrFingerprint)
    {
        var pairs = new Dictionary<(string Fingerprint, string Prompt, string A, string B), (PairwisePreference? AFirst, PairwisePreference? BFirst)>();
        foreach (var v in Verdicts(judgeOrFingerprint))
        {
            string prompt = PromptJson.Canonical(v.Prompt);
            bool sorted = string.CompareOrdinal(v.First, v.Second) <= 0;
            var key = sorted ? (v.Fingerprint, prompt, v.First, v.Second) : (v.Fingerprint, prompt, v.Second, v.First);
            var entry = pairs.GetValueOrDefault(key);
            // "A first" is the order with the ordinally smaller response first: any fixed choice gives the same flips.
            pairs[key] = sorted ? (v.Verdict.Preferred, entry.BFirst) : (entry.AFirst, v.Verdict.Preferred);
        }
        return PositionBias.Of(pairs.Values.Where(p => p.AFirst is not null && p.BFirst is not null).Select(p => (p.AFirst!.Value, p.BFirst!.Value)));
    }

    List<StoredVerdict> ReadVerdicts(string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        using var reader = command.ExecuteReader();
        var result = new List<StoredVerdict>();
        while (reader.Read())
        {
            string key = reader.GetString(0);
            string origin = $"{Path}: verdict {key[..12]}";
            var prompt = PromptJson.Parse(reader.GetString(3), origin);
            var preferred = reader.GetString(6) switch
            {
                "a" => PairwisePreference.A,
                "b" => PairwisePreference.B,
                "tie" => PairwisePreference.Tie,
                "unparsable" => PairwisePreference.Unparsable,
                var other => throw new FeedbackException($"{origin}: preferred '{other}' is not a, b, tie or unparsable"),
            };
            var verdict = new JudgeVerdict(preferred, reader.IsDBNull(7) ? null : reader.GetDouble(7), reader.GetString(8),
                LabelJson.ParseProvenance(reader.GetString(9), origin));
            result.Add(new StoredVerdict(key, reader.GetString(1), reader.GetString(2), prompt, reader.GetString(4), reader.GetString(5), verdict,
                Time(reader.GetString(10), origin)));
        }
        return result;
    }
}
