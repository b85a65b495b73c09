-- what:   sync.supabase_user_unknown on the check run's engine tables: the distinct ids of live Supabase
--         users whose metadata postgres_id is not the core users.id of their firebase_uid (the last
--         core row of the uid, by rn), or that have no uid, no postgres_id or an unknown uid; k the
--         Supabase user id, total the exact count
-- store:  engine (DuckDB, lib.checks.engine)
-- params: $limit (int): how many keys to return
WITH core_id AS (
    SELECT firebase_uid, arg_max(id, rn) AS id
    FROM core_users
    WHERE firebase_uid IS NOT NULL
    GROUP BY firebase_uid
), keys AS (
    SELECT DISTINCT s.id AS k
    FROM sb_users s
    LEFT JOIN core_id c ON c.firebase_uid = s.firebase_uid
    WHERE s.id IS NOT NULL
      AND (c.id IS NULL OR s.postgres_id IS NULL OR c.id <> s.postgres_id)
)
SELECT k, (SELECT count(*) FROM keys) AS total
FROM keys
ORDER BY k
LIMIT $limit
