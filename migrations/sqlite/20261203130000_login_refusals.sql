-- Parents' refused logins counted per town day, channel and reason, for the staff
-- dashboard (SQLite): the lockout counters forget, these figures stay. Never a code or a
-- source. Keep in step with migrations/postgres/20261203130000_login_refusals.sql.
CREATE TABLE login_refusals (
    day TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('web', 'phone')),
    reason TEXT NOT NULL CHECK (reason IN ('wrong_codes', 'locked')),
    refusals BIGINT NOT NULL CHECK (refusals > 0),
    PRIMARY KEY (day, channel, reason)
);
