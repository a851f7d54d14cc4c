-- The usual week (semaine type, issue 18 point 1) (SQLite). Keep the same tables, columns,
-- constraints and meaning as migrations/postgres/20261204130000_usual_weeks.sql.

-- One pattern per child: from `first_day` to `last_day` (NULL: the end of the school year),
-- every week or every other week counted from the week of `first_day`. Stopping keeps the
-- row (`stopped_at` set) so that staff counts and the history of what was set stay readable.
CREATE TABLE usual_weeks (
    child_id INTEGER PRIMARY KEY REFERENCES children(id) ON DELETE CASCADE,
    first_day TEXT NOT NULL,
    last_day TEXT NULL,
    every_other_week INTEGER NOT NULL CHECK (every_other_week IN (0, 1)),
    set_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    stopped_at TEXT NULL,
    CHECK (last_day IS NULL OR last_day >= first_day)
);

-- The (service, weekday) pairs a pattern wants; weekday 1 = Monday ... 7 = Sunday (ISO).
CREATE TABLE usual_week_cells (
    child_id INTEGER NOT NULL REFERENCES usual_weeks(child_id) ON DELETE CASCADE,
    service TEXT NOT NULL,
    weekday INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    PRIMARY KEY (child_id, service, weekday)
);

-- Each pass of the job that books the patterns' new weeks, for the staff's page.
CREATE TABLE usual_week_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    trigger TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    patterns INTEGER NOT NULL,
    booked INTEGER NOT NULL,
    skipped INTEGER NOT NULL,
    kept_cancelled INTEGER NOT NULL,
    failed INTEGER NOT NULL
);
