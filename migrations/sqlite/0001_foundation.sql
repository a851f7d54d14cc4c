-- Foundation schema (SQLite). Keep the same tables, columns, constraints and meaning as
-- migrations/postgres/0001_foundation.sql: the same conformance suite runs on both.
-- Dates are ISO `YYYY-MM-DD` text; instants are UTC RFC 3339 text written by sqlx.

CREATE TABLE payers (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    invoice_email_opt_in INTEGER NOT NULL DEFAULT 0 CHECK (invoice_email_opt_in IN (0, 1))
);

CREATE TABLE children (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    payer_id INTEGER NOT NULL REFERENCES payers(id) ON DELETE CASCADE,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    school TEXT NOT NULL DEFAULT '',
    class_label TEXT NOT NULL DEFAULT '',
    teacher TEXT NOT NULL DEFAULT ''
);
CREATE INDEX children_by_payer ON children(payer_id);

-- One booking per child, date and service: the constraint, not only a check in code.
CREATE TABLE bookings (
    child_id INTEGER NOT NULL REFERENCES children(id) ON DELETE CASCADE,
    date TEXT NOT NULL,
    service TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (child_id, date, service)
);
CREATE INDEX bookings_by_date ON bookings(date, service);

-- AUTOINCREMENT: ids never reused, so `ORDER BY id` is the order of the changes.
CREATE TABLE history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    child_id INTEGER NOT NULL REFERENCES children(id) ON DELETE CASCADE,
    action TEXT NOT NULL CHECK (action IN ('inscription', 'annulation')),
    date TEXT NOT NULL,
    service TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('web', 'phone', 'staff')),
    actor TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX history_by_child ON history(child_id, id);

-- A new deadline for one date. `services` NULL = every service, else codes joined by ','.
CREATE TABLE overrides (
    id INTEGER PRIMARY KEY,
    date TEXT NOT NULL,
    services TEXT NULL,
    applies_to TEXT NOT NULL CHECK (applies_to IN ('booking', 'cancelling', 'both')),
    deadline TEXT NOT NULL,
    sentence TEXT NOT NULL
);
CREATE INDEX overrides_by_date ON overrides(date);

-- Days the town hall's office is closed (ponts), on top of weekends and public holidays.
CREATE TABLE closures (
    date TEXT PRIMARY KEY,
    label TEXT NOT NULL
);

-- Failed logins per source (kind 'source') and per child code (kind 'child'); the key is a
-- keyed hash (HMAC-SHA-256), never the code or the caller's number.
CREATE TABLE login_failures (
    kind TEXT NOT NULL CHECK (kind IN ('source', 'child')),
    key_hash TEXT NOT NULL,
    failures INTEGER NOT NULL,
    last_at TEXT NOT NULL,
    locked_until TEXT NULL,
    PRIMARY KEY (kind, key_hash)
);

-- The town's settings shown to people: its name, its message...
CREATE TABLE town_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Secrets generated once per installation (the login hash key), never shown.
CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
