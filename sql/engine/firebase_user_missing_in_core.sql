-- what:   sync.firebase_user_missing_in_core on the check run's engine tables: the distinct uids of the
--         Firebase Auth users with role claim patient that no core user carries; k the uid, total the
--         exact count, the first keys in order
-- store:  engine (DuckDB, lib.checks.engine)
-- params: $limit (int): how many keys to return
WITH keys AS (
    SELECT DISTINCT f.uid AS k
    FROM fb_users f
    WHERE f.role = 'patient' AND f.uid IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM core_users c WHERE c.firebase_uid = f.uid)
)
SELECT k, (SELECT count(*) FROM keys) AS total
FROM keys
ORDER BY k
LIMIT $limit
