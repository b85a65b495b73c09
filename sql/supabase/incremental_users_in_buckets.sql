-- what:   the live Supabase auth users of some buckets (first two hex digits of the id), in the
--         shape of incremental_users.sql: read again where rows went away
-- store:  supabase
-- params: :buckets (text[])
SELECT id::text AS id,
       raw_user_meta_data ->> 'firebase_uid' AS firebase_uid,
       raw_user_meta_data ->> 'postgres_id' AS postgres_id,
       email, phone,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS _k
FROM auth.users
WHERE deleted_at IS NULL AND left(id::text, 2) = ANY (CAST(:buckets AS text[]))
