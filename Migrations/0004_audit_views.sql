-- Stable views for audit queries (README "Querying the mirror"). Their names and columns are a
-- public interface: later migrations may add columns at the end, never rename or remove one.
-- Times are ISO-8601 UTC strings with milliseconds, so they compare as text, e.g.
--   at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day')

-- One row per committed run, with its Port outcome unpacked.
CREATE VIEW v_runs AS
SELECT r.id                                                   AS run,
       r.command                                              AS command,
       r.status                                               AS status,
       r.started_at                                           AS started_at,
       r.finished_at                                          AS finished_at,
       CASE WHEN r.finished_at IS NULL THEN NULL
            ELSE round((julianday(r.finished_at) - julianday(r.started_at)) * 86400.0, 3) END
                                                              AS seconds,
       r.source                                               AS source,
       r.kinds                                                AS kinds,
       r.fetched                                              AS fetched,
       r.created                                              AS created,
       r.updated                                              AS updated,
       r.deleted                                              AS deleted,
       r.unchanged                                            AS unchanged,
       r.error                                                AS error,
       r.mapping_hash                                         AS mapping_hash,
       json_extract(r.port, '$.upserted')                     AS port_upserted,
       json_extract(r.port, '$.deleted')                      AS port_deleted,
       json_extract(r.port, '$.failed')                       AS port_failed,
       json_extract(r.port, '$.pending')                      AS port_pending,
       json_extract(r.port, '$.skipped')                      AS port_skipped,
       json_extract(r.port, '$.error')                        AS port_error
FROM runs r;

-- Every change the mirror recorded, with when it was seen.
CREATE VIEW v_changes AS
SELECT c.run_id      AS run,
       r.started_at  AS at,
       c.ref         AS ref,
       c.kind        AS kind,
       c.change      AS change,
       c.old_hash    AS old_hash,
       c.new_hash    AS new_hash
FROM changes c JOIN runs r ON r.id = c.run_id;

-- Every version of every entity: the body after each change (null for a deletion).
CREATE VIEW v_entity_history AS
SELECT c.ref         AS ref,
       c.run_id      AS run,
       r.started_at  AS at,
       c.change      AS change,
       c.new_hash    AS hash,
       b.body        AS body
FROM changes c JOIN runs r ON r.id = c.run_id
LEFT JOIN blobs b ON b.hash = c.new_hash;

-- Every push attempt and Port's answer.
CREATE VIEW v_pushes AS
SELECT p.run_id       AS run,
       p.at           AS at,
       p.blueprint    AS blueprint,
       p.identifier   AS identifier,
       p.action       AS action,
       p.outcome      AS outcome,
       p.http_status  AS http_status,
       p.error        AS error
FROM pushes p;

-- Push attempts Port refused or that failed, and whether the entity is still not in sync.
CREATE VIEW v_push_failures AS
SELECT p.*,
       l.source_ref                                    AS source_ref,
       l.status                                        AS ledger_status,
       (l.status IS NOT NULL AND l.status <> 'synced') AS still_pending
FROM v_pushes p
LEFT JOIN ledger l ON l.blueprint = p.blueprint AND l.identifier = p.identifier
WHERE p.outcome <> 'acked';

-- Desired Port entities not yet acknowledged by Port in their current form.
CREATE VIEW v_pending AS
SELECT d.blueprint    AS blueprint,
       d.identifier   AS identifier,
       d.source_ref   AS source_ref,
       l.status       AS ledger_status,
       l.last_error   AS last_error
FROM desired d
LEFT JOIN ledger l ON l.blueprint = d.blueprint AND l.identifier = d.identifier
WHERE l.acked_hash IS NULL OR l.acked_hash <> d.hash;
