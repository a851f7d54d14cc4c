-- Web sessions, known devices and every lockout counter in the database (PostgreSQL), so
-- that a restart logs nobody out and forgets no lockout, and every node shares them. Keep
-- in step with migrations/sqlite/20261202110000_sessions_lockouts.sql.

-- login_failures also counts the staff login and known devices.
ALTER TABLE login_failures DROP CONSTRAINT login_failures_kind_check;
ALTER TABLE login_failures ADD CONSTRAINT login_failures_kind_check
    CHECK (kind IN ('source', 'child', 'device', 'staff_source', 'staff_user', 'staff_device'));
-- Purging forgotten counters scans by age.
CREATE INDEX login_failures_by_last_at ON login_failures(last_at);

-- Browsers that logged in successfully for a child: failures from elsewhere never lock
-- them out. The key is a keyed hash of the device id carried by the signed device cookie
-- (or of a caller number asserted by a trusted trunk), never the id itself.
CREATE TABLE known_devices (
    device_hash TEXT NOT NULL,
    child_id BIGINT NOT NULL REFERENCES children(id) ON DELETE CASCADE,
    last_login_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (device_hash, child_id)
);
CREATE INDEX known_devices_by_last_login ON known_devices(last_login_at);

-- The same for staff accounts.
CREATE TABLE known_staff_devices (
    device_hash TEXT NOT NULL,
    staff_id BIGINT NOT NULL REFERENCES staff_accounts(id) ON DELETE CASCADE,
    last_login_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (device_hash, staff_id)
);
CREATE INDEX known_staff_devices_by_last_login ON known_staff_devices(last_login_at);

-- Web sessions. The key is a SHA-256 of the cookie's random id, so the table alone cannot
-- be replayed as cookies. Deleting a family or a staff account ends its sessions.
CREATE TABLE web_sessions (
    id_hash TEXT PRIMARY KEY,
    who TEXT NOT NULL CHECK (who IN ('anonymous', 'parent', 'staff')),
    payer_id BIGINT NULL REFERENCES payers(id) ON DELETE CASCADE,
    child_id BIGINT NULL REFERENCES children(id) ON DELETE CASCADE,
    staff_user TEXT NULL REFERENCES staff_accounts(username) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL,
    CHECK ((who = 'parent') = (payer_id IS NOT NULL AND child_id IS NOT NULL)),
    CHECK ((who = 'staff') = (staff_user IS NOT NULL))
);
CREATE INDEX web_sessions_by_last_seen ON web_sessions(last_seen);
CREATE INDEX web_sessions_by_who ON web_sessions(who, last_seen);
