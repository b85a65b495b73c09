-- what:   every core user's identity as sql/snapshot/core_users.sql reads it, plus `_k` (created_at in
--         UTC as sortable text): the incremental run's base copy, which it re-orders after a merge
-- store:  core
-- params: none
SELECT u.id::text AS id, u.firebase_uid, u.email, u.phone, u.role,
       CASE WHEN EXISTS (SELECT 1 FROM patients p WHERE p.user_id = u.id) THEN 't' ELSE 'f' END AS is_patient,
       to_char(u.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS _k
FROM users u
ORDER BY u.created_at, u.id
