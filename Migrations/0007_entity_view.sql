-- The current mirror with when each entity was last seen. `entities.last_seen_run` moves only
-- when an entity changes (re-stamping every unchanged row would rewrite the table each sync); an
-- entity still in the mirror was also seen by every later complete walk of its kind.
CREATE VIEW v_entities AS
SELECT e.ref, e.kind, e.namespace, e.name, e.uid, e.etag, e.hash, e.first_seen_run,
       max(e.last_seen_run, coalesce((SELECT max(k.run_id) FROM run_kinds k
                                      WHERE k.kind = e.kind AND k.complete = 1), 0)) AS last_seen_run
FROM entities e;
