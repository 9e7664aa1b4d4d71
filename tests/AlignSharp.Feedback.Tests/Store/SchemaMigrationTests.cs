using AlignSharp.Feedback.Store;
using Microsoft.Data.Sqlite;

namespace AlignSharp.Feedback.Tests.Store;

/// <summary>A store written by the version-1 schema (before unparsable labels and pairwise verdicts) is migrated in place.</summary>
public class SchemaMigrationTests
{
    /// <summary>The labels and generations tables exactly as schema version 1 created them.</summary>
    const string Version1 = """
        CREATE TABLE generations (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, item TEXT NOT NULL, prompt_id TEXT NOT NULL, prompt TEXT NOT NULL,
            response TEXT NOT NULL, prompt_ids BLOB, completion_ids BLOB, logprobs BLOB, finish_reason TEXT, model TEXT, seed INTEGER, created_at TEXT NOT NULL) STRICT;
        CREATE INDEX generations_item ON generations(item);
        CREATE TABLE labels (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, fingerprint TEXT NOT NULL, source TEXT NOT NULL, item TEXT NOT NULL,
            prompt_id TEXT NOT NULL, prompt TEXT NOT NULL, response TEXT NOT NULL, kind TEXT, principle TEXT, score REAL, rationale TEXT, provenance TEXT,
            parts TEXT, model TEXT, template_hash TEXT, seed INTEGER, created_at TEXT NOT NULL, elapsed_ms REAL,
            CHECK ((score IS NULL) = (provenance IS NULL) AND (score IS NULL) = (rationale IS NULL))) STRICT;
        CREATE INDEX labels_fingerprint ON labels(fingerprint);
        CREATE INDEX labels_item ON labels(item);
        PRAGMA application_id = 1095976531;
        PRAGMA user_version = 1;
        """;

    [Fact]
    public async Task A_version_1_store_is_migrated_with_its_labels_and_gains_verdicts()
    {
        using var folder = StoreTestKit.Folder();
        string path = folder.File("old.db");
        var items = StoreTestKit.Items(3, 2);
        // Labels written through today's code into a v1 file: copy rows from a v2 store into the v1 tables.
        string donor = folder.File("donor.db");
        var source = new CountingSource();
        using (var store = FeedbackStore.Open(donor)) await new CachingSignalSource(source, store).ScoreBatchAsync([.. items, new SignalItem(StoreTestKit.Prompt(9), "n/a here")]);
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            Execute(connection, Version1);
            Execute(connection, $"ATTACH DATABASE '{donor}' AS donor");
            Execute(connection, """
                INSERT INTO labels SELECT id, key, fingerprint, source, item, prompt_id, prompt, response, kind, principle, score, rationale, provenance,
                    parts, model, template_hash, seed, created_at, elapsed_ms FROM donor.labels
                """);
        }
        var expected = ReadAll(donor);

        using (var store = FeedbackStore.Open(path))
        {
            Assert.Equal(7, store.LabelCount);
            var labels = store.Labels();
            Assert.Equal(expected.Select(l => l.Key), labels.Select(l => l.Key));
            for (int i = 0; i < labels.Count; i++) StoreTestKit.SameLabel(expected[i].Label, labels[i].Label);
            Assert.Null(labels[^1].Label);  // the not-applicable label stays not applicable
            Assert.Equal(0, store.VerdictCount);
            Assert.Equal("ok", store.CheckIntegrity());
            // The cache still answers: nothing is scored again.
            var again = new CachingSignalSource(new CountingSource(), store);
            await again.ScoreBatchAsync(items);
            Assert.Equal(0, again.InnerCalls);
        }
        using (var raw = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            raw.Open();
            using var command = raw.CreateCommand();
            command.CommandText = "PRAGMA user_version";
            Assert.Equal((long)FeedbackStore.SchemaVersion, (long)command.ExecuteScalar()!);
            command.CommandText = "SELECT count(*) FROM sqlite_schema WHERE name = 'labels_v1'";
            Assert.Equal(0L, (long)command.ExecuteScalar()!);
        }
    }

    static IReadOnlyList<StoredLabel> ReadAll(string path)
    {
        using var store = FeedbackStore.Open(path);
        return store.Labels();
    }

    static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
