namespace AlignSharp.Feedback.Store;

/// <summary>
/// The tables of schema version <see cref="Version"/>. Rows are self-contained (each label carries its prompt and
/// response) so a label can be exported, audited or imported without joins. STRICT tables refuse values of the
/// wrong type; keys are content hashes (<see cref="LabelKey"/>), so writing the same label twice keeps the first.
/// </summary>
internal static class StoreSchema
{
    /// <summary>PRAGMA user_version of the tables below; a store of another version is migrated (1) or refused, not guessed at.</summary>
    public const int Version = 2;

    /// <summary>PRAGMA application_id of a feedback store ("ASFS"), telling it from other SQLite databases.</summary>
    public const int ApplicationId = 0x41534653;

    const string Generations = """
        CREATE TABLE generations (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,      -- SHA-256 of (prompt content, response, model, seed, occurrence in its batch)
            item TEXT NOT NULL,            -- LabelKey.Item: shared with the labels of this (prompt, response)
            prompt_id TEXT NOT NULL,
            prompt TEXT NOT NULL,          -- PromptJson: {"id", "messages", "category", "metadata"}
            response TEXT NOT NULL,
            prompt_ids BLOB,               -- int32 little-endian
            completion_ids BLOB,           -- int32 little-endian
            logprobs BLOB,                 -- float32 little-endian, one per completion id
            finish_reason TEXT,            -- stop | length
            model TEXT,
            seed INTEGER,
            created_at TEXT NOT NULL       -- ISO 8601, round-trip format
        ) STRICT;
        CREATE INDEX generations_item ON generations(item);
        """;

    /// <summary>
    /// Labels. Three outcomes: scored (score, rationale and provenance set), not applicable (all three NULL) and, since
    /// version 2, unparsable (a judge answered but its answer could not be read: score NULL, unparsable = 1, the raw
    /// answer in the rationale) — kept so the judge is not asked again, and skipped by every aggregate over score.
    /// </summary>
    const string LabelsTable = """
        CREATE TABLE labels (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,      -- LabelKey.Of: SHA-256 of (fingerprint, prompt content, response)
            fingerprint TEXT NOT NULL,
            source TEXT NOT NULL,
            item TEXT NOT NULL,
            prompt_id TEXT NOT NULL,
            prompt TEXT NOT NULL,
            response TEXT NOT NULL,
            kind TEXT,                     -- verifier | principle | judge | composite; NULL when not applicable
            principle TEXT,
            score REAL,                    -- NULL: the source does not apply to this item, or its answer was unparsable
            rationale TEXT,
            provenance TEXT,               -- LabelJson: the whole Provenance, inputs nested
            parts TEXT,                    -- LabelJson: {"name": score, ...}
            model TEXT,
            template_hash TEXT,
            seed INTEGER,
            created_at TEXT NOT NULL,
            elapsed_ms REAL,
            unparsable INTEGER NOT NULL DEFAULT 0 CHECK (unparsable IN (0, 1)),
            CHECK ((provenance IS NULL) = (rationale IS NULL)
               AND (score IS NULL) = (provenance IS NULL OR unparsable = 1)
               AND (unparsable = 0 OR provenance IS NOT NULL))
        ) STRICT;
        """;

    const string LabelsIndexes = """
        CREATE INDEX labels_fingerprint ON labels(fingerprint);
        CREATE INDEX labels_item ON labels(item);
        """;

    /// <summary>
    /// Pairwise verdicts (version 2), one row per question asked: which of two responses, shown in this order, is
    /// better. The key is (judge fingerprint, prompt content, response shown first, response shown second), so the
    /// order is part of the key and asking (A, B) then (B, A) are two rows; <c>pair</c> is shared by both orders.
    /// "a" means the response shown first.
    /// </summary>
    const string VerdictsTable = """
        CREATE TABLE verdicts (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,      -- VerdictKey.Of: SHA-256 of (fingerprint, prompt content, first, second)
            pair TEXT NOT NULL,            -- VerdictKey.Pair: the same for both orders of one pair
            fingerprint TEXT NOT NULL,
            judge TEXT NOT NULL,
            prompt_id TEXT NOT NULL,
            prompt TEXT NOT NULL,
            first TEXT NOT NULL,           -- the response shown as (A)
            second TEXT NOT NULL,          -- the response shown as (B)
            preferred TEXT NOT NULL CHECK (preferred IN ('a', 'b', 'tie', 'unparsable')),
            probability_a REAL,            -- P(first is better): normalised verdict-token probabilities, or 1 / 0 / 0.5; NULL when unparsable
            rationale TEXT NOT NULL,       -- the judge's answer
            provenance TEXT NOT NULL,
            model TEXT,
            template_hash TEXT,
            created_at TEXT NOT NULL,
            elapsed_ms REAL
        ) STRICT;
        CREATE INDEX verdicts_pair ON verdicts(pair);
        CREATE INDEX verdicts_fingerprint ON verdicts(fingerprint);
        """;

    /// <summary>Every table of a new store.</summary>
    public const string Create = Generations + LabelsTable + LabelsIndexes + VerdictsTable;

    /// <summary>
    /// Version 1 → 2: the labels table is rebuilt with the <c>unparsable</c> column (its CHECK changes, which SQLite
    /// cannot alter in place; every row is copied as scored or not applicable), and the verdicts table is added.
    /// Run inside one transaction, so a store is migrated whole or not at all.
    /// </summary>
    public const string MigrateFrom1 = """
        ALTER TABLE labels RENAME TO labels_v1;
        """ + LabelsTable + """
        INSERT INTO labels (id, key, fingerprint, source, item, prompt_id, prompt, response, kind, principle, score, rationale,
            provenance, parts, model, template_hash, seed, created_at, elapsed_ms)
        SELECT id, key, fingerprint, source, item, prompt_id, prompt, response, kind, principle, score, rationale,
            provenance, parts, model, template_hash, seed, created_at, elapsed_ms FROM labels_v1;
        DROP TABLE labels_v1;
        """ + LabelsIndexes + VerdictsTable;
}
