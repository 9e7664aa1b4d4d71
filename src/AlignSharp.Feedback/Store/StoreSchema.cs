namespace AlignSharp.Feedback.Store;

/// <summary>
/// The tables of schema version <see cref="Version"/>. Rows are self-contained (each label carries its prompt and
/// response) so a label can be exported, audited or imported without joins. STRICT tables refuse values of the
/// wrong type; keys are content hashes (<see cref="LabelKey"/>), so writing the same label twice keeps the first.
/// </summary>
internal static class StoreSchema
{
    /// <summary>PRAGMA user_version of the tables below; a store of another version is refused, not guessed at.</summary>
    public const int Version = 1;

    /// <summary>PRAGMA application_id of a feedback store ("ASFS"), telling it from other SQLite databases.</summary>
    public const int ApplicationId = 0x41534653;

    public const string Create = """
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
            score REAL,                    -- NULL: the source does not apply to this item
            rationale TEXT,
            provenance TEXT,               -- LabelJson: the whole Provenance, inputs nested
            parts TEXT,                    -- LabelJson: {"name": score, ...}
            model TEXT,
            template_hash TEXT,
            seed INTEGER,
            created_at TEXT NOT NULL,
            elapsed_ms REAL,
            CHECK ((score IS NULL) = (provenance IS NULL) AND (score IS NULL) = (rationale IS NULL))
        ) STRICT;
        CREATE INDEX labels_fingerprint ON labels(fingerprint);
        CREATE INDEX labels_item ON labels(item);
        """;
}
