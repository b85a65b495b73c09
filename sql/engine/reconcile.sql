-- what:   the core ↔ Supabase identity reconciliation (lib.checks.sync.reconcile_identities) on tables
--         rc_core (firebase_uid, id, rn) and rc_supabase (firebase_uid, postgres_id, rn): each
--         mismatching uid with its kind: missing_in_supabase, missing_in_core, or postgres_id_mismatch
--         (the oldest live Supabase user's postgres_id, smallest rn, is not the last core row's id)
-- store:  engine (DuckDB, lib.checks.engine)
-- params: none
WITH core AS (
    SELECT firebase_uid AS uid, arg_max(id, rn) AS id FROM rc_core WHERE firebase_uid IS NOT NULL GROUP BY firebase_uid
), sb AS (
    SELECT r.firebase_uid AS uid, r.postgres_id
    FROM rc_supabase r
    SEMI JOIN (SELECT firebase_uid, min(rn) AS rn FROM rc_supabase GROUP BY firebase_uid) f
        ON f.firebase_uid = r.firebase_uid AND f.rn = r.rn
)
SELECT 'missing_in_supabase' AS kind, c.uid FROM core c ANTI JOIN sb s ON s.uid = c.uid
UNION ALL
SELECT 'missing_in_core', s.uid FROM sb s ANTI JOIN core c ON c.uid = s.uid
UNION ALL
SELECT 'postgres_id_mismatch', s.uid FROM sb s JOIN core c ON c.uid = s.uid
WHERE s.postgres_id IS NULL OR c.id IS NULL OR s.postgres_id <> c.id
