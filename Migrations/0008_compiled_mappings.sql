-- Mapping programs libjq has compiled. Every sync checks its mapping's jq program before anything
-- is fetched, and libjq 1.6 needs ~60 ms per compile: a program listed here (same program text,
-- same libjq) is known to compile, so the check is skipped and the program is compiled only when
-- an entity needs mapping. A no-change sync then compiles nothing.
CREATE TABLE compiled_mappings (
    program_key TEXT PRIMARY KEY,       -- SHA-256 of the program text and the libjq file name
    first_run   INTEGER NOT NULL        -- the run that first recorded it
) WITHOUT ROWID;
