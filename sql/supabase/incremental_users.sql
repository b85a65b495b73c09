-- what:   every live Supabase auth user as sql/snapshot/supabase_live_users.sql reads it, plus `_k`
--         (created_at in UTC as sortable text): the incremental run's base copy
-- store:  supabase
-- params: none
SELECT id::text AS id,
       raw_user_meta_data ->> 'firebase_uid' AS firebase_uid,
       raw_user_meta_data ->> 'postgres_id' AS postgres_id,
       email, phone,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS _k
FROM auth.users
WHERE deleted_at IS NULL
ORDER BY created_at, id
