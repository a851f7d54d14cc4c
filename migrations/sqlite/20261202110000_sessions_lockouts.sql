-- Web sessions, known devices and every lockout counter in the database (SQLite), so that a
-- restart logs nobody out and forgets no lockout. Keep in step with
-- migrations/postgres/20261202110000_sessions_lockouts.sql.

-- login_failures also counts the staff login and known devices. SQLite cannot change a
-- CHECK constraint in place, so the table is rebuilt with its rows.
CREATE TABLE login_failures_new (
    kind TEXT NOT NULL CHECK (kind IN ('source', 'child', 'device', 'staff_source', 'staff_user', 'staff_device')),
    key_hash TEXT NOT NULL,
    failures INTEGER NOT NULL,
    last_at TEXT NOT NULL,
    locked_until TEXT NULL,
    PRIMARY KEY (kind, key_hash)
);
INSERT INTO login_failures_new (kind, key_hash, failures, last_at, locked_until)
    SELECT kind, key_hash, failures, last_at, locked_until FROM login_failures;
DROP TABLE login_failures;
ALTER TABLE login_failures_new RENAME TO login_failures;
-- Purging forgotten counters scans by age.
CREATE INDEX login_failures_by_last_at ON login_failures(last_at);

-- Browsers that logged in successfully for a child: failures from elsewhere never lock
-- them out. The key is a keyed hash of the device id carried by the signed device cookie
-- (or of a caller number asserted by a trusted trunk), never the id itself.
CREATE TABLE known_devices (
    device_hash TEXT NOT NULL,
    child_id INTEGER NOT NULL REFERENCES children(id) ON DELETE CASCADE,
    last_login_at TEXT NOT NULL,
    PRIMARY KEY (device_hash, child_id)
);
CREATE INDEX known_devices_by_last_login ON known_devices(last_login_at);

-- The same for staff accounts.
CREATE TABLE known_staff_devices (
    device_hash TEXT NOT NULL,
    staff_id INTEGER NOT NULL REFERENCES staff_accounts(id) ON DELETE CASCADE,
    last_login_at TEXT NOT NULL,
    PRIMARY KEY (device_hash, staff_id)
);
CREATE INDEX known_staff_devices_by_last_login ON known_staff_devices(last_login_at);

-- Web sessions. The key is a SHA-256 of the cookie's random id, so the table alone cannot
-- be replayed as cookies. Deleting a family or a staff account ends its sessions.
CREATE TABLE web_sessions (
    id_hash TEXT PRIMARY KEY,
    who TEXT NOT NULL CHECK (who IN ('anonymous', 'parent', 'staff')),
    payer_id INTEGER NULL REFERENCES payers(id) ON DELETE CASCADE,
    child_id INTEGER NULL REFERENCES children(id) ON DELETE CASCADE,
    staff_user TEXT NULL REFERENCES staff_accounts(username) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    CHECK ((who = 'parent') = (payer_id IS NOT NULL AND child_id IS NOT NULL)),
    CHECK ((who = 'staff') = (staff_user IS NOT NULL))
);
CREATE INDEX web_sessions_by_last_seen ON web_sessions(last_seen);
CREATE INDEX web_sessions_by_who ON web_sessions(who, last_seen);
