-- what:   sync.drift_rows: every row of table drift, by uid, field and pair of stores (the patient page
--         asks for a few uids' rows)
-- store:  engine (DuckDB, lib.checks.engine)
-- params: none
SELECT uid, field, store_a, store_b, value_a, value_b
FROM drift
ORDER BY uid, field, oa, ob
