-- what:   the floor of the identity reconciliation, Supabase side: the key columns alone (metadata
--         firebase_uid and postgres_id of live auth users), read with COPY ... TO STDOUT and
--         counted in bytes, nothing parsed
-- store:  supabase
-- params: none
SELECT raw_user_meta_data ->> 'firebase_uid', raw_user_meta_data ->> 'postgres_id'
FROM auth.users
WHERE deleted_at IS NULL
