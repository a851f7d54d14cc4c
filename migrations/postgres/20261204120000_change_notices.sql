-- Changes pushed to every node (PostgreSQL only): each node listens on the channel
-- ivr_changes and keeps its announcement and town-voice caches until a notice says they
-- moved, instead of asking the database at every call. The payload names what changed.
-- Statement-level triggers: one notice per statement, and PostgreSQL delivers identical
-- notices of one transaction once, at its commit (never for a rolled-back change).
-- No SQLite twin: SQLite has no NOTIFY, and a node on SQLite reads at every call.
CREATE FUNCTION ivr_notify_announcements() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ivr_changes', 'announcements');
    RETURN NULL;
END;
$$;

CREATE TRIGGER announcements_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON announcements
    FOR EACH STATEMENT EXECUTE FUNCTION ivr_notify_announcements();

CREATE FUNCTION ivr_notify_prompts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ivr_changes', 'prompts');
    RETURN NULL;
END;
$$;

-- Both tables: the store bumps the counter with every change of the rows, and a change
-- made by hand to the rows alone is still pushed.
CREATE TRIGGER prompt_overrides_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON prompt_overrides
    FOR EACH STATEMENT EXECUTE FUNCTION ivr_notify_prompts();

CREATE TRIGGER prompt_overrides_version_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON prompt_overrides_version
    FOR EACH STATEMENT EXECUTE FUNCTION ivr_notify_prompts();
