-- what:   every Supabase auth user's identity for the cross-store checks: metadata firebase_uid and
--         postgres_id, email, phone, whether it is deleted
-- store:  supabase
-- params: none
SELECT id::text AS id,
       raw_user_meta_data ->> 'firebase_uid' AS firebase_uid,
       raw_user_meta_data ->> 'postgres_id' AS postgres_id,
       email, phone, created_at,
       (deleted_at IS NOT NULL) AS deleted
FROM auth.users
