-- what:   the Supabase auth users created, updated or soft-deleted since :since, live or not (`live`
--         't' / 'f'), in the shape of incremental_users.sql
-- store:  supabase
-- params: :since (timestamptz)
SELECT id::text AS id,
       raw_user_meta_data ->> 'firebase_uid' AS firebase_uid,
       raw_user_meta_data ->> 'postgres_id' AS postgres_id,
       email, phone,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS _k,
       CASE WHEN deleted_at IS NULL THEN 't' ELSE 'f' END AS live
FROM auth.users
WHERE created_at >= :since OR updated_at >= :since OR deleted_at >= :since
ORDER BY created_at, id
