-- Retention (`mirrorctl prune`): the oldest run whose history is complete. Older runs that remain
-- keep only what `show --at` and the current state need (baseline change events, first/last seen).
-- No foreign key on purpose: this row must never keep a run from being pruned.
CREATE TABLE retention (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    history_from_run  INTEGER NOT NULL,
    pruned_at         TEXT NOT NULL,     -- ISO-8601 UTC
    policy            TEXT NOT NULL      -- e.g. 'keep-runs 30'
);
