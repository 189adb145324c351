-- Port: the desired state mapped from the mirror, the ledger of what Port acknowledged, and an
-- audit row per push. Mapped Port entities' canonical JSON lives in `blobs` like entity bodies.

ALTER TABLE runs ADD COLUMN mapping_hash TEXT;
ALTER TABLE runs ADD COLUMN port TEXT;            -- JSON of the run's Port outcome, null when not reached

-- The mapping the desired state was computed with (one row). A new hash re-maps everything.
CREATE TABLE mapping_state (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    mapping_hash  TEXT NOT NULL,
    run_id        INTEGER REFERENCES runs(id)
);

-- Desired Port entities, mapped from the current mirror (only changed sources are re-mapped).
CREATE TABLE desired (
    blueprint   TEXT NOT NULL,
    identifier  TEXT NOT NULL,
    source_ref  TEXT NOT NULL,
    hash        TEXT NOT NULL REFERENCES blobs(hash),
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    PRIMARY KEY (blueprint, identifier)
) WITHOUT ROWID;
CREATE INDEX desired_source ON desired(source_ref);

-- Relation targets of desired entities: with createMissingRelatedEntities, a target still
-- referenced by a kept entity is not deleted.
CREATE TABLE desired_targets (
    blueprint   TEXT NOT NULL,
    identifier  TEXT NOT NULL,
    target      TEXT NOT NULL,
    PRIMARY KEY (blueprint, identifier, target)
) WITHOUT ROWID;
CREATE INDEX desired_targets_target ON desired_targets(target);

-- Every Port entity mirrorctl owns. intent_hash is written before a push is sent and acked_hash
-- after Port acknowledges it, so a push cut short is simply sent again (upserts are idempotent).
CREATE TABLE ledger (
    blueprint    TEXT NOT NULL,
    identifier   TEXT NOT NULL,
    source_ref   TEXT NOT NULL,
    acked_hash   TEXT,                 -- mapped entity as Port last acknowledged it; null: never
    intent_hash  TEXT,                 -- what is being (or was last) sent
    status       TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'synced', 'rejected', 'failed', 'deleting')),
    run_id       INTEGER REFERENCES runs(id),
    last_error   TEXT,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (blueprint, identifier)
) WITHOUT ROWID;
CREATE INDEX ledger_status ON ledger(status);

-- One row per entity per push attempt outcome.
CREATE TABLE pushes (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER NOT NULL REFERENCES runs(id),
    blueprint    TEXT NOT NULL,
    identifier   TEXT NOT NULL,
    action       TEXT NOT NULL CHECK (action IN ('upsert', 'delete')),
    outcome      TEXT NOT NULL CHECK (outcome IN ('acked', 'rejected', 'failed')),
    http_status  INTEGER,
    error        TEXT,
    hash         TEXT,
    at           TEXT NOT NULL
);
CREATE INDEX pushes_run ON pushes(run_id);
CREATE INDEX pushes_entity ON pushes(blueprint, identifier);
