-- Why a run is not `succeeded` (README "Exit status and run outcomes"): a JSON array of reason
-- names (port-unreachable, mapping-errors, …), empty for a run that did all its job.
ALTER TABLE runs ADD COLUMN reasons TEXT NOT NULL DEFAULT '[]';

-- Stable views (README "Querying the mirror for audit"). One row per reason of each run: e.g.
-- every run in which Port refused the credentials:
--   SELECT run FROM v_run_reasons WHERE reason = 'port-auth-rejected'
CREATE VIEW v_run_reasons AS
SELECT r.id AS run, r.command AS command, r.status AS status, r.started_at AS started_at, j.value AS reason
FROM runs r, json_each(r.reasons) j;

-- Mapping expressions failing as of a run (mapping_faults, grouped), one row per resource and
-- field: how many entities, one example entity and its message. `field` is `selector.query` for selectors.
-- A failed field is sent as null (as Ocean does); a failed selector keeps the entity's previous
-- Port entities and withholds the run's deletes.
CREATE TABLE run_mapping_errors (
    run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    resource    INTEGER NOT NULL,       -- index in the mapping's resources (-1: the whole mapping)
    kind        TEXT NOT NULL,          -- the resource's kind
    field       TEXT NOT NULL,          -- identifier, properties.type, selector.query, …
    expression  TEXT NOT NULL,
    count       INTEGER NOT NULL,
    example     TEXT NOT NULL,          -- an entity ref it failed for
    message     TEXT NOT NULL,          -- jq's error for the example
    PRIMARY KEY (run_id, resource, field)
) WITHOUT ROWID;

-- The mapping expressions that fail now, per source entity: kept until the entity maps cleanly
-- (or the mapping changes and everything is re-mapped), so every run reports them, not only the
-- run that first mapped the entity.
CREATE TABLE mapping_faults (
    ref         TEXT NOT NULL,          -- the source entity
    resource    INTEGER NOT NULL,
    field       TEXT NOT NULL,
    expression  TEXT NOT NULL,
    message     TEXT NOT NULL,
    PRIMARY KEY (ref, resource, field)
) WITHOUT ROWID;

-- One row per failing mapping expression as of each run.
CREATE VIEW v_mapping_errors AS
SELECT m.run_id AS run, r.started_at AS started_at, m.kind AS kind, m.resource AS resource, m.field AS field,
       m.expression AS expression, m.count AS count, m.example AS example, m.message AS message
FROM run_mapping_errors m JOIN runs r ON r.id = m.run_id;
