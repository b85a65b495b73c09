-- what:   the identity keys of every core user for the core ↔ Supabase reconciliation: firebase_uid
--         and users.id, nothing else (the benchmark's unit; the check run reads core_users.sql)
-- store:  core
-- params: none
SELECT u.firebase_uid, u.id::text AS id
FROM users u
WHERE u.firebase_uid IS NOT NULL
