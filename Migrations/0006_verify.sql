-- Drift verification: each comparison of Port's entities with the ledger, and what differed.
-- The newest verification without an error is when Port was last known to match the ledger
-- (`sync --verify-every`).

CREATE TABLE verifications (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER NOT NULL REFERENCES runs(id),
    started_at   TEXT NOT NULL,
    finished_at  TEXT,                  -- null: cut short (killed or Port unreachable)
    checked      INTEGER NOT NULL DEFAULT 0,
    drifted      INTEGER NOT NULL DEFAULT 0,
    missing      INTEGER NOT NULL DEFAULT 0,
    repaired     INTEGER NOT NULL DEFAULT 0,
    error        TEXT                   -- blueprints that could not be read
);
CREATE INDEX verifications_finished ON verifications(finished_at);

-- One row per owned entity found edited ('drifted', with the differing fields) or gone ('missing').
CREATE TABLE verification_drift (
    verification_id  INTEGER NOT NULL REFERENCES verifications(id),
    blueprint        TEXT NOT NULL,
    identifier       TEXT NOT NULL,
    drift            TEXT NOT NULL CHECK (drift IN ('drifted', 'missing')),
    fields           TEXT,              -- JSON array of the differing fields ('drifted' only)
    PRIMARY KEY (verification_id, blueprint, identifier)
) WITHOUT ROWID;
