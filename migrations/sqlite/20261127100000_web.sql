-- Web portal tables (SQLite). Keep in step with migrations/postgres/20261127100000_web.sql.

-- Town-hall staff accounts; the password is an argon2id PHC string, never the password.
CREATE TABLE staff_accounts (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Recorded announcements played after the welcome. The audio is stored converted (8 kHz
-- mono 16-bit WAV) in the database so every node of a PostgreSQL installation plays the
-- same one. The current one is the newest enabled one whose validity includes today.
CREATE TABLE announcements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    wav BLOB NOT NULL,
    duration_ms INTEGER NOT NULL,
    label TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    valid_from TEXT NULL,
    valid_until TEXT NULL,
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    CHECK (valid_from IS NULL OR valid_until IS NULL OR valid_from <= valid_until)
);
