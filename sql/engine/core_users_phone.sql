-- what:   dup.core_users_phone on the check run's engine tables: the core users whose normalised phone
--         (phone_n) an older user (smaller rn: the snapshot reads oldest first) already has; k the
--         users.id, total the exact count
-- store:  engine (DuckDB, lib.checks.engine)
-- params: $limit (int): how many keys to return
WITH firsts AS (
    SELECT phone_n, min(rn) AS rn FROM core_users WHERE phone_n IS NOT NULL GROUP BY phone_n
), keys AS (
    SELECT c.id AS k
    FROM core_users c
    JOIN firsts f ON f.phone_n = c.phone_n
    WHERE c.rn > f.rn
)
SELECT k, (SELECT count(*) FROM keys) AS total
FROM keys
ORDER BY k
LIMIT $limit
