-- what:   sync.core_user_missing_in_firebase on the check run's engine tables: the distinct firebase_uid
--         of core users that no Firebase Auth user has; k the uid, total the exact count
-- store:  engine (DuckDB, lib.checks.engine)
-- params: $limit (int): how many keys to return
WITH keys AS (
    SELECT DISTINCT c.firebase_uid AS k
    FROM core_users c
    WHERE c.firebase_uid IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM fb_users f WHERE f.uid = c.firebase_uid)
)
SELECT k, (SELECT count(*) FROM keys) AS total
FROM keys
ORDER BY k
LIMIT $limit
