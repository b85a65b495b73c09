-- what:   the core ↔ Supabase identity reconciliation (lib.checks.sync.reconcile_identities) on
--         streams rc_core (firebase_uid, id, rn) and rc_supabase (firebase_uid, postgres_id, rn):
--         each mismatching uid with its kind: missing_in_supabase, missing_in_core, or
--         postgres_id_mismatch (the oldest live Supabase user's postgres_id, smallest rn, is not the
--         last core row's id). Ids compare as uuids, as PostgreSQL and reladiff compare them: a
--         postgres_id that is no uuid (or NULL) differs from every id, an upper-case one does not.
--         One aggregate a side and one full join; the _null forms keep a NULL id as the row's value.
--         At 1M, 16-byte uuids instead of 36-character text in the aggregates: 2.2 s where text
--         spilled at the 128 MB limit and took 2.6 s
-- store:  engine (DuckDB, lib.checks.engine)
-- params: none
WITH core AS (
    SELECT firebase_uid AS uid, arg_max_null(id::UUID, rn) AS id
    FROM rc_core WHERE firebase_uid IS NOT NULL GROUP BY firebase_uid
), sb AS (
    SELECT firebase_uid AS uid, arg_min_null(TRY_CAST(postgres_id AS UUID), rn) AS postgres_id
    FROM rc_supabase WHERE firebase_uid IS NOT NULL GROUP BY firebase_uid
)
SELECT CASE WHEN s.uid IS NULL THEN 'missing_in_supabase'
            WHEN c.uid IS NULL THEN 'missing_in_core'
            ELSE 'postgres_id_mismatch' END AS kind,
       coalesce(c.uid, s.uid) AS uid
FROM core c FULL JOIN sb s ON s.uid = c.uid
WHERE s.uid IS NULL OR c.uid IS NULL OR s.postgres_id IS NULL OR c.id IS NULL OR s.postgres_id <> c.id
