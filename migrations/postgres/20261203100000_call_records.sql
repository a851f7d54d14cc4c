-- One row per call to the voice line, written when the call ends, for the staff dashboard
-- (PostgreSQL). Never a typed digit or code: the caller is a keyed hash of the number unless
-- the town keeps numbers ([phone] keep_caller_numbers). Keep in step with
-- migrations/sqlite/20261203100000_call_records.sql.
CREATE TABLE call_records (
    id BIGSERIAL PRIMARY KEY,
    started_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ NOT NULL,
    -- The number dialled (the line), as the INVITE named it.
    line TEXT NOT NULL,
    -- "h:" and a keyed hash, or "n:" and the number itself, or "" when the caller gave none.
    caller TEXT NOT NULL,
    dialplan TEXT NOT NULL,
    -- How far it got, the most telling first: changed, consulted, locked, login_failed, no_login.
    outcome TEXT NOT NULL CHECK (outcome IN ('changed', 'consulted', 'locked', 'login_failed', 'no_login')),
    logins_failed BIGINT NOT NULL CHECK (logins_failed >= 0),
    booked BIGINT NOT NULL CHECK (booked >= 0),
    cancelled BIGINT NOT NULL CHECK (cancelled >= 0),
    refused BIGINT NOT NULL CHECK (refused >= 0),
    failed BIGINT NOT NULL CHECK (failed >= 0),
    -- The dialplan node the call was at when it ended ("" before the first).
    last_step TEXT NOT NULL,
    ended_by TEXT NOT NULL CHECK (ended_by IN ('caller', 'line'))
);
CREATE INDEX call_records_by_start ON call_records(started_at);
