-- what:   core users beyond the first (oldest) sharing a trimmed, case-folded email (dup.core_users_email)
-- store:  core
-- params: none; key: the surplus user's id
SELECT id::text AS key
FROM (
    SELECT id, row_number() OVER (PARTITION BY lower(btrim(email)) ORDER BY created_at, id) AS rn
    FROM users
    WHERE nullif(btrim(email), '') IS NOT NULL
) u
WHERE rn > 1
