-- Pre-registration requests ("préinscriptions") (SQLite). Keep the same tables, columns,
-- constraints and meaning as migrations/postgres/20261127150000_preregistrations.sql.

-- A parent asks to register a child (known: child_id set; not yet known: NULL) for one
-- service (its code) or the whole school year (service NULL). Staff accept or refuse it
-- once; a refusal always carries a reason.
CREATE TABLE preregistrations (
    id INTEGER PRIMARY KEY,
    payer_id INTEGER NOT NULL REFERENCES payers(id),
    child_id INTEGER NULL REFERENCES children(id),
    child_first_name TEXT NOT NULL CHECK (length(trim(child_first_name)) > 0),
    child_last_name TEXT NOT NULL CHECK (length(trim(child_last_name)) > 0),
    service TEXT NULL,
    school_year TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'refused')),
    staff_reason TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    decided_at TEXT NULL,
    decided_by TEXT NULL,
    CHECK ((status = 'pending') = (decided_at IS NULL)),
    CHECK (status <> 'refused' OR length(trim(staff_reason)) > 0)
);
CREATE INDEX preregistrations_by_payer ON preregistrations(payer_id, created_at);
CREATE INDEX preregistrations_by_status ON preregistrations(status, created_at);
