-- School holiday periods kept in the database (imported with `ivr calendar import --write`,
-- seeded by the demo), added to the configured ones by the booking service. Same table,
-- columns, constraints and meaning as migrations/postgres/0002_school_holidays.sql.
-- Both days are included: `last_day` is the eve of the day classes resume.
CREATE TABLE school_holidays (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(trim(name)) > 0),
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    CHECK (first_day <= last_day),
    -- The same days cannot be two periods: re-importing a file adds nothing.
    UNIQUE (first_day, last_day)
);
