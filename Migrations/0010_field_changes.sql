-- Field-level changes, one row per changed field of every recorded change (README "Querying the
-- mirror for audit"), e.g. who changed spec.owner last week. A stable view: columns may be added
-- at the end, never renamed or removed.
--
-- Computed when queried, from the stored bodies (SQLite's json_tree), not at sync time: a sync
-- writes nothing more than before (a no-change sync nothing at all, a 1% sync no extra row per
-- changed entity), and a query pays only for the changes its WHERE keeps (run, time, ref or kind
-- are filtered before any body is opened).
--
-- This is `FieldChanges` (Sources/Store/JSON/FieldChanges.swift) in SQL: every path that is a
-- leaf (scalar, `{}` or `[]`) on either side, where the value there differs; `old` and `new` are
-- that path's JSON text on each side, NULL when absent (JSON null is the text 'null'). Paths are
-- spelled as mirrorctl prints them: json_tree's full key `$.a."b.c"[0]` becomes `a["b.c"][0]`
-- (escaped backslashes and quotes inside keys are set aside first, as control characters 1 and
-- 2, which a JSON key can only hold escaped; 3 marks the start of a quoted key). One limit:
-- SQLite 3.40's JSON path parser can't address a key holding a `"` or `\`, so fields under such
-- keys (unheard of in catalogs) are left out here; `mirrorctl history` and `diff` show them.

CREATE VIEW v_field_changes AS
SELECT f.run       AS run,
       f.at        AS at,
       f.ref       AS ref,
       f.kind      AS kind,
       ltrim(replace(replace(replace(replace(replace(replace(replace(
           f.fullkey, '\\', char(1)), '\"', char(2)), '."', char(3)), '"', '"]'), char(3), '["'),
           char(2), '\"'), char(1), '\\'), '$.')
                   AS path,
       f.old       AS old,
       f.new       AS new,
       f.change    AS change
FROM (
    -- Leaves of the new version, with what the old one had there.
    SELECT c.run_id AS run, r.started_at AS at, c.ref AS ref, c.kind AS kind, c.change AS change,
           n.fullkey AS fullkey, ob.body -> n.fullkey AS old, nb.body -> n.fullkey AS new
    FROM changes c JOIN runs r ON r.id = c.run_id
    JOIN blobs nb ON nb.hash = c.new_hash
    LEFT JOIN blobs ob ON ob.hash = c.old_hash
    JOIN json_tree(nb.body) n
    WHERE (n.type NOT IN ('object', 'array') OR n.value IN ('{}', '[]'))
      AND (nb.body -> n.fullkey) IS NOT NULL
      AND (ob.body -> n.fullkey) IS NOT (nb.body -> n.fullkey)
    UNION ALL
    -- Leaves of the old version where the new one has no leaf (nothing, or a filled container).
    SELECT c.run_id, r.started_at, c.ref, c.kind, c.change,
           o.fullkey, ob.body -> o.fullkey, nb.body -> o.fullkey
    FROM changes c JOIN runs r ON r.id = c.run_id
    JOIN blobs ob ON ob.hash = c.old_hash
    LEFT JOIN blobs nb ON nb.hash = c.new_hash
    JOIN json_tree(ob.body) o
    WHERE (o.type NOT IN ('object', 'array') OR o.value IN ('{}', '[]'))
      AND (ob.body -> o.fullkey) IS NOT NULL
      AND NOT coalesce(json_type(nb.body, o.fullkey) NOT IN ('object', 'array')
                       OR (nb.body -> o.fullkey) IN ('{}', '[]'), 0)
) f;
