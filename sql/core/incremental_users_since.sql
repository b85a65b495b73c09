-- what:   the core users changed since :since (users.created_at / updated_at, or a patients row of
--         theirs created or updated since), in the shape of incremental_users.sql
-- store:  core
-- params: :since (timestamptz)
SELECT u.id::text AS id, u.firebase_uid, u.email, u.phone, u.role,
       CASE WHEN EXISTS (SELECT 1 FROM patients p WHERE p.user_id = u.id) THEN 't' ELSE 'f' END AS is_patient,
       to_char(u.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS _k
FROM users u
WHERE u.created_at >= :since OR u.updated_at >= :since
   OR EXISTS (SELECT 1 FROM patients p WHERE p.user_id = u.id AND (p.created_at >= :since OR p.updated_at >= :since))
ORDER BY u.created_at, u.id
