-- What an accepted pre-registration did (SQLite). Keep the same tables, columns, constraints
-- and meaning as migrations/postgres/20261204100000_preregistration_outcome.sql.

-- The child an accepted request for a new child created; UNIQUE: one request, one child.
ALTER TABLE preregistrations ADD COLUMN created_child_id INTEGER NULL REFERENCES children(id);
CREATE UNIQUE INDEX preregistrations_created_child ON preregistrations(created_child_id);

-- A known child registered for one service and school year by an accepted request. Booking
-- rules do not read it (every child may book every service); it records what was agreed.
CREATE TABLE enrolments (
    id INTEGER PRIMARY KEY,
    child_id INTEGER NOT NULL REFERENCES children(id) ON DELETE CASCADE,
    service TEXT NOT NULL,
    school_year TEXT NOT NULL,
    preregistration_id INTEGER NOT NULL REFERENCES preregistrations(id),
    created_at TEXT NOT NULL,
    UNIQUE (child_id, service, school_year)
);
-- Requests accepted before this migration did record their agreement: they get their row.
INSERT INTO enrolments (child_id, service, school_year, preregistration_id, created_at)
SELECT child_id, service, school_year, id, decided_at FROM preregistrations
WHERE status = 'accepted' AND child_id IS NOT NULL AND service IS NOT NULL
ON CONFLICT (child_id, service, school_year) DO NOTHING;

-- The outbox carries the message of a decision too: each row is about one invoice or one
-- pre-registration, never both. SQLite cannot relax NOT NULL in place, so the table is
-- rebuilt (nothing references it).
CREATE TABLE mail_outbox_new (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    payer_id INTEGER NOT NULL REFERENCES payers(id),
    invoice_id INTEGER NULL REFERENCES invoices(id),
    preregistration_id INTEGER NULL REFERENCES preregistrations(id),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT NULL,
    sent_at TEXT NULL,
    -- Set when the server refused the message for good: never tried again.
    gave_up_at TEXT NULL,
    created_at TEXT NOT NULL,
    CHECK ((invoice_id IS NULL) <> (preregistration_id IS NULL))
);
INSERT INTO mail_outbox_new (id, key, payer_id, invoice_id, attempts, next_attempt_at,
    last_error, sent_at, gave_up_at, created_at)
SELECT id, key, payer_id, invoice_id, attempts, next_attempt_at, last_error, sent_at,
    gave_up_at, created_at FROM mail_outbox;
DROP TABLE mail_outbox;
ALTER TABLE mail_outbox_new RENAME TO mail_outbox;
CREATE INDEX mail_outbox_pending ON mail_outbox(sent_at, next_attempt_at);
