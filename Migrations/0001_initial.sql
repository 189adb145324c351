-- The mirror: runs, entity bodies stored once per content hash, the current mirror, and one
-- change event per entity per run. Any past snapshot is the latest event per ref at or before a run.

CREATE TABLE runs (
    id           INTEGER PRIMARY KEY,
    command      TEXT NOT NULL,                 -- 'sync'
    started_at   TEXT NOT NULL,                 -- ISO-8601 UTC
    finished_at  TEXT,
    status       TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'partial', 'failed')),
    source       TEXT NOT NULL,                 -- Backstage base URL (never a token) or file: path
    kinds        TEXT NOT NULL,                 -- JSON array of the kinds walked
    fetched      INTEGER NOT NULL DEFAULT 0,
    created      INTEGER NOT NULL DEFAULT 0,
    updated      INTEGER NOT NULL DEFAULT 0,
    deleted      INTEGER NOT NULL DEFAULT 0,
    unchanged    INTEGER NOT NULL DEFAULT 0,
    error        TEXT                           -- why the run was partial or failed
);

-- Per kind outcome of a run's walk: a kind that did not complete produces no deletes.
CREATE TABLE run_kinds (
    run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    kind      TEXT NOT NULL,
    complete  INTEGER NOT NULL,
    fetched   INTEGER NOT NULL,
    error     TEXT,
    PRIMARY KEY (run_id, kind)
) WITHOUT ROWID;

-- Canonical JSON of an entity (metadata.etag removed), once per SHA-256 content hash.
-- A rowid table on purpose: bodies of a few KB stay on their page instead of overflowing.
CREATE TABLE blobs (
    hash  TEXT PRIMARY KEY,
    body  TEXT NOT NULL
);

-- The current mirror: one row per entity ref.
CREATE TABLE entities (
    ref             TEXT PRIMARY KEY,           -- kind:namespace/name, lower-case
    kind            TEXT NOT NULL,              -- lower-case kind
    namespace       TEXT NOT NULL,
    name            TEXT NOT NULL,
    uid             TEXT,
    etag            TEXT,
    hash            TEXT NOT NULL REFERENCES blobs(hash),
    first_seen_run  INTEGER NOT NULL REFERENCES runs(id),
    last_seen_run   INTEGER NOT NULL REFERENCES runs(id)
) WITHOUT ROWID;
CREATE INDEX entities_kind ON entities(kind);

-- What each run changed. old_hash is null for 'created', new_hash is null for 'deleted'.
CREATE TABLE changes (
    run_id    INTEGER NOT NULL REFERENCES runs(id),
    ref       TEXT NOT NULL,
    kind      TEXT NOT NULL,
    change    TEXT NOT NULL CHECK (change IN ('created', 'updated', 'deleted')),
    old_hash  TEXT,
    new_hash  TEXT,
    PRIMARY KEY (ref, run_id)
) WITHOUT ROWID;
CREATE INDEX changes_run ON changes(run_id);
