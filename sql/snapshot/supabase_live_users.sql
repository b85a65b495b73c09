-- what:   every live (deleted_at null) Supabase auth user for the cross-store checks: id, metadata
--         firebase_uid and postgres_id, email, phone; oldest first (created_at, id)
-- store:  supabase
-- params: none
SELECT id::text AS id,
       raw_user_meta_data ->> 'firebase_uid' AS firebase_uid,
       raw_user_meta_data ->> 'postgres_id' AS postgres_id,
       email, phone
FROM auth.users
WHERE deleted_at IS NULL
ORDER BY created_at, id
