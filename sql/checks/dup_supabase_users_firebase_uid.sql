-- what:   live Supabase auth users beyond the first (oldest) sharing a metadata firebase_uid
--         (dup.supabase_users_firebase_uid)
-- store:  supabase
-- params: none; key: the surplus auth user's id
SELECT id::text AS key
FROM (
    SELECT id, row_number() OVER (
        PARTITION BY raw_user_meta_data ->> 'firebase_uid' ORDER BY created_at, id) AS rn
    FROM auth.users
    WHERE deleted_at IS NULL AND raw_user_meta_data ->> 'firebase_uid' IS NOT NULL
) u
WHERE rn > 1
