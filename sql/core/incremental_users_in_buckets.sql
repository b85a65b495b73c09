-- what:   the core users of some buckets (the first :width hex digits of the id), in the shape of
--         incremental_users.sql: read again where rows went away
-- store:  core
-- params: :buckets (text[]) the buckets; :width (int) how many leading characters of the id make a bucket
SELECT u.id::text AS id, u.firebase_uid, u.email, u.phone, u.role,
       CASE WHEN EXISTS (SELECT 1 FROM patients p WHERE p.user_id = u.id) THEN 't' ELSE 'f' END AS is_patient,
       to_char(u.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS _k
FROM users u
WHERE left(u.id::text, CAST(:width AS int)) = ANY (CAST(:buckets AS text[]))
