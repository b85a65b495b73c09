-- what:   sync.patient_missing_in_supabase on the check run's engine tables: the distinct firebase_uid
--         of core users with a patients row that no live Supabase user carries; k the uid, total the
--         exact count
-- store:  engine (DuckDB, lib.checks.engine)
-- params: $limit (int): how many keys to return
WITH keys AS (
    SELECT DISTINCT c.firebase_uid AS k
    FROM core_users c
    WHERE c.is_patient = 't' AND c.firebase_uid IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM sb_users s WHERE s.firebase_uid = c.firebase_uid)
)
SELECT k, (SELECT count(*) FROM keys) AS total
FROM keys
ORDER BY k
LIMIT $limit
