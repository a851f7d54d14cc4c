-- The town's own recordings of the voice line's prompts (SQLite), one per prompt id of the
-- manifest, stored converted (8 kHz mono 16-bit WAV) in the database so that every node
-- plays the same. Keep in step with migrations/postgres/20261203120000_prompt_overrides.sql.
CREATE TABLE prompt_overrides (
    prompt_id TEXT PRIMARY KEY CHECK (length(prompt_id) BETWEEN 1 AND 64),
    wav BLOB NOT NULL,
    duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    -- The value of prompt_overrides_version.version this row was written at: a node
    -- decodes again only the rows whose version it has not seen.
    version INTEGER NOT NULL
);

-- One row, bumped in the transaction of every change to prompt_overrides: the voice line
-- reads this one small value at each call and rebuilds its prompts only when it moved.
CREATE TABLE prompt_overrides_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO prompt_overrides_version (id, version) VALUES (1, 0);
