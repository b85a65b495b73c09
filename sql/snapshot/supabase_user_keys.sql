-- what:   the identity keys of every live Supabase auth user for the reconciliation: metadata
--         firebase_uid and postgres_id, oldest first (created_at, id) so the first row of a uid is
--         its oldest live user
-- store:  supabase
-- params: none
SELECT raw_user_meta_data ->> 'firebase_uid' AS firebase_uid,
       raw_user_meta_data ->> 'postgres_id' AS postgres_id
FROM auth.users
WHERE deleted_at IS NULL
ORDER BY created_at, id
