-- what:   the live Supabase auth users of some buckets (the first :width hex digits of the id), in the
--         shape of incremental_users.sql: read again where rows went away
-- store:  supabase
-- params: :buckets (text[]) the buckets; :width (int) how many leading characters of the id make a bucket
SELECT id::text AS id,
       raw_user_meta_data ->> 'firebase_uid' AS firebase_uid,
       raw_user_meta_data ->> 'postgres_id' AS postgres_id,
       email, phone,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS _k
FROM auth.users
WHERE deleted_at IS NULL AND left(id::text, CAST(:width AS int)) = ANY (CAST(:buckets AS text[]))
