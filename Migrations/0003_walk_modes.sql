-- How each kind was walked: 'full' (every body) or 'scan' (refs, uids and etags first, then only
-- the bodies that changed). A scan is trusted only while a recent full walk backs it.
ALTER TABLE run_kinds ADD COLUMN mode TEXT NOT NULL DEFAULT 'full' CHECK (mode IN ('full', 'scan'));
