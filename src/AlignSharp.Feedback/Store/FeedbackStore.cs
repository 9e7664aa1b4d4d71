using System.Buffers.Binary;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace AlignSharp.Feedback.Store;

/// <summary>Settings of a <see cref="FeedbackStore"/>.</summary>
public sealed record FeedbackStoreOptions
{
    /// <summary>How long a write waits for another process's write to finish before the store reports it locked.</summary>
    public TimeSpan BusyTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// False (default, SQLite's synchronous=NORMAL in WAL mode): a committed batch survives the process being killed
    /// (kill -9, a crash), because the commit has reached the operating system; the last batches may be lost if the
    /// machine itself loses power. True (synchronous=FULL): every commit is also flushed to the disk (an fsync per
    /// batch), so it survives power loss too.
    /// </summary>
    public bool SyncEveryCommit { get; init; }
}

/// <summary>
/// The feedback store: one SQLite file (one per run, and usable across runs) holding every generation and every
/// label with its provenance and timing, keyed by content hashes (<see cref="LabelKey"/>), so that a label once
/// computed is never computed again (<see cref="CachingSignalSource"/>).
/// </summary>
/// <remarks>
/// <para>Durability: the file is in WAL mode and every write method is one transaction, so a batch is stored whole
/// or not at all — a process killed at any point (kill -9) leaves every committed batch and no half-written row; see
/// <see cref="FeedbackStoreOptions.SyncEveryCommit"/> for power loss.</para>
/// <para>Errors are <see cref="FeedbackException"/>s of one line naming the file and the fix: not an SQLite
/// database, an SQLite database that is not a feedback store, a schema version this build does not read, a folder
/// that is missing or read-only, a store locked by another writer past <see cref="FeedbackStoreOptions.BusyTimeout"/>.</para>
/// <para>One instance may be used from several threads (calls are serialised); several processes may open one file
/// (SQLite's locking serialises their writes).</para>
/// </remarks>
public sealed partial class FeedbackStore : IDisposable
{
    const string LabelColumns = "key, fingerprint, source, prompt, response, score, rationale, provenance, parts, created_at, unparsable";
    const string GenerationColumns = "id, prompt, response, prompt_ids, completion_ids, logprobs, finish_reason, model, seed, created_at";
    static readonly byte[] SqliteHeader = "SQLite format 3\0"u8.ToArray();

    readonly SqliteConnection _db;
    readonly object _gate = new();
    readonly FeedbackStoreOptions _options;

    FeedbackStore(string path, SqliteConnection db, FeedbackStoreOptions options) { Path = path; _db = db; _options = options; }

    /// <summary>The store's file, as given.</summary>
    public string Path { get; }

    /// <summary>The schema version this build reads and writes (PRAGMA user_version).</summary>
    public static int SchemaVersion => StoreSchema.Version;

    /// <summary>Opens the store at <paramref name="path"/>, creating it (and its tables) when the file does not exist or is empty.</summary>
    /// <exception cref="FeedbackException">The file cannot be used as a store; the message names it and the fix.</exception>
    public static FeedbackStore Open(string path, FeedbackStoreOptions? options = null)
    {
        options ??= new FeedbackStoreOptions();
        string full = System.IO.Path.GetFullPath(path);
        string folder = System.IO.Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder)) throw new FeedbackException($"{path}: folder {folder} does not exist; create it or give a store path in an existing folder");
        if (Directory.Exists(full)) throw new FeedbackException($"{path}: is a folder; give the store's file name (for example {System.IO.Path.Combine(path, "feedback.db")})");
        CheckHeader(path, full);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,  // the file is released when the store is disposed
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(options.BusyTimeout.TotalSeconds)),
        }.ToString());
        var store = new FeedbackStore(path, connection, options);
        try
        {
            store.Guard(() =>
            {
                connection.Open();
                store.Initialise();
                return 0;
            });
            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>A non-empty file that does not start with SQLite's header is refused before SQLite touches it.</summary>
    static void CheckHeader(string path, string full)
    {
        if (!File.Exists(full)) return;
        using var file = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (file.Length == 0) return;
        var head = new byte[SqliteHeader.Length];
        int read = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (read < head.Length || !head.AsSpan().SequenceEqual(SqliteHeader))
            throw new FeedbackException($"{path}: not an SQLite database (it does not start with \"SQLite format 3\"); give a feedback store file, or a new file name to create one");
    }

    /// <summary>Checks the application id and schema version, creates the tables of a new store, and sets WAL mode.</summary>
    void Initialise()
    {
        long applicationId = Scalar<long>("PRAGMA application_id");
        long version = Scalar<long>("PRAGMA user_version");
        long objects = Scalar<long>("SELECT count(*) FROM sqlite_schema");
        bool fresh = objects == 0 && version == 0 && applicationId == 0;
        if (!fresh && applicationId != StoreSchema.ApplicationId)
            throw new FeedbackException($"{Path}: an SQLite database but not a feedback store (application_id {applicationId}); give a feedback store file, or a new file name to create one");
        if (!fresh && version == 1) Migrate(version);
        else if (!fresh && version != StoreSchema.Version)
            throw new FeedbackException($"{Path}: feedback store schema version {version}, but this build reads version {StoreSchema.Version}; "
                + "open it with the alignsharp version that wrote it, or give a new file name to start a new store");
        string mode = Scalar<string>("PRAGMA journal_mode = WAL");
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            throw new FeedbackException($"{Path}: SQLite refused WAL mode (journal mode stays '{mode}'); put the store on a local disk");
        Execute($"PRAGMA synchronous = {(_options.SyncEveryCommit ? "FULL" : "NORMAL")}");
        if (!fresh) return;
        using var transaction = _db.BeginTransaction(deferred: false);
        if (Scalar<long>("SELECT count(*) FROM sqlite_schema") != 0)
        {
            // Another process created the store between the check and the lock: check it as an existing store.
            transaction.Rollback();
            Initialise();
            return;
        }
        Execute(StoreSchema.Create);
        Execute($"PRAGMA application_id = {StoreSchema.ApplicationId}");
        Execute($"PRAGMA user_version = {StoreSchema.Version}");
        transaction.Commit();
    }

    /// <summary>
    /// Brings a store of an older schema version to <see cref="StoreSchema.Version"/> in one transaction (all or
    /// nothing); a store another process migrated meanwhile is left as it is.
    /// </summary>
    void Migrate(long from)
    {
        using var transaction = _db.BeginTransaction(deferred: false);
        if (Scalar<long>("PRAGMA user_version") != from) { transaction.Rollback(); return; }
        Execute(StoreSchema.MigrateFrom1);
        Execute($"PRAGMA user_version = {StoreSchema.Version}");
        transaction.Commit();
    }

    // ---- labels ----

    /// <summary>Stores labels in one transaction; a label whose key is already stored is kept as it was. Returns how many were added.</summary>
    /// <exception cref="FeedbackException">A score or part is not finite, or the store cannot be written.</exception>
    public int PutLabels(IEnumerable<StoredLabel> labels)
    {
        var list = labels.ToList();
        foreach (var l in list) Validate(l);
        if (list.Count == 0) return 0;
        return Guard(() =>
        {
            using var transaction = _db.BeginTransaction(deferred: false);
            using var insert = _db.CreateCommand();
            insert.CommandText = """
                INSERT OR IGNORE INTO labels (key, fingerprint, source, item, prompt_id, prompt, response, kind, principle, score, rationale,
                    provenance, parts, model, template_hash, seed, created_at, elapsed_ms, unparsable)
                VALUES ($key, $fingerprint, $source, $item, $prompt_id, $prompt, $response, $kind, $principle, $score, $rationale,
                    $provenance, $parts, $model, $template_hash, $seed, $created_at, $elapsed_ms, $unparsable)
                """;
            var p = new Dictionary<string, SqliteParameter>();
            foreach (var name in new[] { "key", "fingerprint", "source", "item", "prompt_id", "prompt", "response", "kind", "principle", "score", "rationale",
                         "provenance", "parts", "model", "template_hash", "seed", "created_at", "elapsed_ms", "unparsable" })
                p[name] = insert.Parameters.Add(new SqliteParameter("$" + name, null));
            int added = 0;
            foreach (var l in list)
            {
                string canonical = PromptJson.Canonical(l.Prompt);
                var provenance = l.Label?.Provenance;
                p["key"].Value = l.Key;
                p["fingerprint"].Value = l.Fingerprint;
                p["source"].Value = l.Source;
                p["item"].Value = LabelKey.Item(canonical, l.Response);
                p["prompt_id"].Value = l.Prompt.Id;
                p["prompt"].Value = PromptJson.Serialize(l.Prompt);
                p["response"].Value = l.Response;
                p["kind"].Value = Db(provenance?.Kind.ToString().ToLowerInvariant());
                p["principle"].Value = Db(provenance?.PrincipleId);
                p["score"].Value = Db(l.Label is { Unparsable: false } scored ? scored.Score : null);  // an unparsable answer has no score
                p["unparsable"].Value = l.Label?.Unparsable == true ? 1 : 0;
                p["rationale"].Value = Db(l.Label?.Rationale);
                p["provenance"].Value = Db(provenance is null ? null : LabelJson.Serialize(provenance));
                p["parts"].Value = Db(l.Label?.Parts is { } parts ? LabelJson.Serialize(parts) : null);
                p["model"].Value = Db(provenance?.Model);
                p["template_hash"].Value = Db(provenance?.TemplateHash);
                p["seed"].Value = Db(provenance?.Seed);
                p["created_at"].Value = LabelJson.Timestamp(l.CreatedAt);
                p["elapsed_ms"].Value = Db(provenance?.ElapsedMs);
                added += insert.ExecuteNonQuery();
            }
            transaction.Commit();
            return added;
        });
    }

    void Validate(StoredLabel l)
    {
        if (l.Label is not { Unparsable: false } label) return;
        if (!double.IsFinite(label.Score))
            throw new FeedbackException($"{Path}: {l.Source} gave prompt {l.Prompt.Id} the score {label.Score}; a stored score must be a finite number");
        if (label.Parts?.FirstOrDefault(kv => !double.IsFinite(kv.Value)) is { Key: not null } bad)
            throw new FeedbackException($"{Path}: {l.Source} gave prompt {l.Prompt.Id} the part {bad.Key} = {bad.Value}; a stored part must be a finite number");
    }

    /// <summary>The stored labels among <paramref name="keys"/>, by key (one query, any number of keys); keys not stored are absent.</summary>
    public IReadOnlyDictionary<string, StoredLabel> LookupLabels(IEnumerable<string> keys)
    {
        string json = System.Text.Json.JsonSerializer.Serialize(keys.Distinct().ToArray());
        return Guard(() => ReadLabels($"SELECT {LabelColumns} FROM labels WHERE key IN (SELECT value FROM json_each($keys))", ("$keys", json))
            .ToDictionary(l => l.Key));
    }

    /// <summary>
    /// Every stored label in the order stored; with <paramref name="sourceOrFingerprint"/>, only those whose source
    /// name or fingerprint equals it.
    /// </summary>
    public IReadOnlyList<StoredLabel> Labels(string? sourceOrFingerprint = null) => Guard(() => sourceOrFingerprint is null
        ? ReadLabels($"SELECT {LabelColumns} FROM labels ORDER BY id")
        : ReadLabels($"SELECT {LabelColumns} FROM labels WHERE fingerprint = $s OR source = $s ORDER BY id", ("$s", sourceOrFingerprint)));

    /// <summary>Each fingerprint with labels: its source name (as first stored) and label count, in the order first stored.</summary>
    public IReadOnlyList<(string Fingerprint, string Source, int Labels)> Sources() => Guard(() =>
    {
        var result = new List<(string, string, int)>();
        // With min(id) the bare column "source" is read from the fingerprint's first row (SQLite's documented rule).
        using var command = Command("SELECT fingerprint, source, count(*), min(id) FROM labels GROUP BY fingerprint ORDER BY min(id)");
        using var reader = command.ExecuteReader();
        while (reader.Read()) result.Add((reader.GetString(0), reader.GetString(1), reader.GetInt32(2)));
        return (IReadOnlyList<(string, string, int)>)result;
    });

    /// <summary>How many labels are stored (not-applicable ones included).</summary>
    public int LabelCount => Guard(() => (int)Scalar<long>("SELECT count(*) FROM labels"));

    List<StoredLabel> ReadLabels(string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        using var reader = command.ExecuteReader();
        var result = new List<StoredLabel>();
        while (reader.Read())
        {
            string key = reader.GetString(0);
            string origin = $"{Path}: label {key[..12]}";
            var prompt = PromptJson.Parse(reader.GetString(3), origin);
            bool unparsable = reader.GetInt64(10) != 0;
            FeedbackLabel? label = reader.IsDBNull(7) ? null : new FeedbackLabel(
                unparsable ? 0 : reader.GetDouble(5),
                reader.GetString(6),
                LabelJson.ParseProvenance(reader.GetString(7), origin),
                reader.IsDBNull(8) ? null : LabelJson.ParseParts(reader.GetString(8), origin),
                unparsable);
            result.Add(new StoredLabel(key, reader.GetString(1), reader.GetString(2), prompt, reader.GetString(4), label, Time(reader.GetString(9), origin)));
        }
        return result;
    }

    // ---- generations ----

    /// <summary>
    /// Stores sampled rollouts (token ids, log-probs, finish reason, model, seed) in one transaction. A generation
    /// already stored — same prompt content, response, model, seed and occurrence within the batch — is not stored
    /// again, so re-running a deterministic sampling step adds nothing. Returns how many were added.
    /// </summary>
    public int AddGenerations(IEnumerable<Rollout> rollouts) =>
        InsertGenerations(rollouts.Select(r => (r.Prompt, r.Text, (int[]?)r.PromptIds, (int[]?)r.CompletionIds, (float[]?)r.LogProbs, (FinishReason?)r.Finish, r.Model, r.Seed)));

    /// <summary>Stores text-only generations (no token ids) of <paramref name="model"/> with <paramref name="seed"/>; see <see cref="AddGenerations(IEnumerable{Rollout})"/>.</summary>
    public int AddGenerations(IEnumerable<SignalItem> items, string? model = null, long? seed = null) =>
        InsertGenerations(items.Select(i => (i.Prompt, i.Response, (int[]?)null, (int[]?)null, (float[]?)null, (FinishReason?)null, model, seed)));

    int InsertGenerations(IEnumerable<(PromptRecord Prompt, string Response, int[]? PromptIds, int[]? CompletionIds, float[]? LogProbs, FinishReason? Finish, string? Model, long? Seed)> rows)
    {
        var list = rows.ToList();
        if (list.Count == 0) return 0;
        string now = LabelJson.Timestamp(DateTimeOffset.UtcNow);
        return Guard(() =>
        {
            using var transaction = _db.BeginTransaction(deferred: false);
            using var insert = _db.CreateCommand();
            insert.CommandText = """
                INSERT OR IGNORE INTO generations (key, item, prompt_id, prompt, response, prompt_ids, completion_ids, logprobs, finish_reason, model, seed, created_at)
                VALUES ($key, $item, $prompt_id, $prompt, $response, $prompt_ids, $completion_ids, $logprobs, $finish_reason, $model, $seed, $created_at)
                """;
            var p = new Dictionary<string, SqliteParameter>();
            foreach (var name in new[] { "key", "item", "prompt_id", "prompt", "response", "prompt_ids", "completion_ids", "logprobs", "finish_reason", "model", "seed", "created_at" })
                p[name] = insert.Parameters.Add(new SqliteParameter("$" + name, null));
            var occurrences = new Dictionary<string, int>();
            int added = 0;
            foreach (var g in list)
            {
                string canonical = PromptJson.Canonical(g.Prompt);
                string item = LabelKey.Item(canonical, g.Response);
                string identity = LabelKey.Of($"{g.Model}\n{g.Seed}", canonical, g.Response);
                int occurrence = occurrences[identity] = occurrences.GetValueOrDefault(identity) + 1;
                p["key"].Value = occurrence == 1 ? identity : $"{identity}#{occurrence}";
                p["item"].Value = item;
                p["prompt_id"].Value = g.Prompt.Id;
                p["prompt"].Value = PromptJson.Serialize(g.Prompt);
                p["response"].Value = g.Response;
                p["prompt_ids"].Value = Db(g.PromptIds is null ? null : Bytes(g.PromptIds));
                p["completion_ids"].Value = Db(g.CompletionIds is null ? null : Bytes(g.CompletionIds));
                p["logprobs"].Value = Db(g.LogProbs is null ? null : Bytes(g.LogProbs));
                p["finish_reason"].Value = Db(g.Finish?.ToString().ToLowerInvariant());
                p["model"].Value = Db(g.Model);
                p["seed"].Value = Db(g.Seed);
                p["created_at"].Value = now;
                added += insert.ExecuteNonQuery();
            }
            transaction.Commit();
            return added;
        });
    }

    /// <summary>Every stored generation, in the order stored.</summary>
    public IReadOnlyList<StoredGeneration> Generations() => Guard(() =>
    {
        using var command = Command($"SELECT {GenerationColumns} FROM generations ORDER BY id");
        using var reader = command.ExecuteReader();
        var result = new List<StoredGeneration>();
        while (reader.Read())
        {
            long id = reader.GetInt64(0);
            string origin = $"{Path}: generation {id}";
            result.Add(new StoredGeneration(id, PromptJson.Parse(reader.GetString(1), origin), reader.GetString(2),
                reader.IsDBNull(3) ? null : Ints((byte[])reader[3]),
                reader.IsDBNull(4) ? null : Ints((byte[])reader[4]),
                reader.IsDBNull(5) ? null : Floats((byte[])reader[5]),
                reader.IsDBNull(6) ? null : Rollout.ParseFinish(reader.GetString(6)),
                reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.IsDBNull(8) ? null : reader.GetInt64(8),
                Time(reader.GetString(9), origin)));
        }
        return (IReadOnlyList<StoredGeneration>)result;
    });

    /// <summary>How many generations are stored.</summary>
    public int GenerationCount => Guard(() => (int)Scalar<long>("SELECT count(*) FROM generations"));

    /// <summary>SQLite's PRAGMA integrity_check: "ok", or the problems found, one per line.</summary>
    public string CheckIntegrity() => Guard(() =>
    {
        using var command = Command("PRAGMA integrity_check");
        using var reader = command.ExecuteReader();
        var lines = new List<string>();
        while (reader.Read()) lines.Add(reader.GetString(0));
        return string.Join('\n', lines);
    });

    /// <summary>Closes the file (SQLite folds the write-ahead log back into it).</summary>
    public void Dispose()
    {
        lock (_gate) _db.Dispose();
    }

    // ---- helpers ----

    /// <summary>Runs <paramref name="work"/> under the store's lock, turning SQLite's errors into one line naming the file and the fix.</summary>
    T Guard<T>(Func<T> work)
    {
        lock (_gate)
        {
            try { return work(); }
            catch (SqliteException e) { throw Explain(e); }
        }
    }

    FeedbackException Explain(SqliteException e)
    {
        string folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        return e.SqliteErrorCode switch
        {
            26 => new FeedbackException($"{Path}: not an SQLite database ({Short(e)}); give a feedback store file, or a new file name to create one"),
            11 => new FeedbackException($"{Path}: the database is corrupt ({Short(e)}); restore it from a copy or start a new store"),
            5 or 6 => new FeedbackException($"{Path}: the store is locked by another process (waited {_options.BusyTimeout.TotalSeconds:0.#} s); let it finish or stop it, or use another store file"),
            8 or 14 or 23 => new FeedbackException($"{Path}: cannot write the store or its -wal/-shm files ({Short(e)}); make {folder} writable, or give a store path in a writable folder"),
            13 => new FeedbackException($"{Path}: the disk is full ({Short(e)}); free space and run again (committed batches are kept)"),
            _ => new FeedbackException($"{Path}: SQLite error {e.SqliteErrorCode} ({Short(e)})"),
        };
    }

    /// <summary>SQLite's own words: "unable to open database file" from "SQLite Error 14: 'unable to open database file'.".</summary>
    static string Short(SqliteException e) =>
        System.Text.RegularExpressions.Regex.Match(e.Message, @"^SQLite Error \d+: '(.*)'\.?$") is { Success: true } m ? m.Groups[1].Value : e.Message.Trim();

    SqliteCommand Command(string sql, params (string Name, object Value)[] parameters)
    {
        var command = _db.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return command;
    }

    void Execute(string sql)
    {
        using var command = Command(sql);
        command.ExecuteNonQuery();
    }

    T Scalar<T>(string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        return (T)Convert.ChangeType(command.ExecuteScalar()!, typeof(T), CultureInfo.InvariantCulture);
    }

    static object Db(object? value) => value ?? DBNull.Value;

    static DateTimeOffset Time(string text, string origin) =>
        DateTimeOffset.TryParseExact(text, "O", CultureInfo.InvariantCulture, DateTimeStyles.None, out var t) ? t
        : throw new FeedbackException($"{origin}: created_at '{text}' is not an ISO 8601 time");

    static byte[] Bytes(int[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }

    static byte[] Bytes(float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }

    static int[] Ints(byte[] bytes)
    {
        var values = new int[bytes.Length / 4];
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(i * 4));
        return values;
    }

    static float[] Floats(byte[] bytes)
    {
        var values = new float[bytes.Length / 4];
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4));
        return values;
    }
}
