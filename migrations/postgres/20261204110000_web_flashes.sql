-- The one-shot message a page shows after a redirect (the planning's recap, a staff
-- notice), kept with its session in the database so that any node behind the web proxy
-- shows it, whichever node took the form. Taking it is one DELETE … RETURNING, so it is
-- shown once even when two nodes serve the same session at once.
CREATE TABLE web_flashes (
    id_hash TEXT PRIMARY KEY REFERENCES web_sessions(id_hash) ON DELETE CASCADE,
    flash TEXT NOT NULL
);
