-- what:   every Supabase auth user (live and deleted) whose metadata firebase_uid is one of :uids,
--         oldest first: the oldest live one is the patient's, the others are flagged; banned_now:
--         banned_until is in the future (identity.disabled_live_in_supabase counts the others)
-- store:  supabase
-- params: :uids (text[]); served by the index on (raw_user_meta_data ->> 'firebase_uid')
SELECT id::text AS id,
       raw_user_meta_data ->> 'firebase_uid' AS firebase_uid,
       raw_user_meta_data ->> 'postgres_id' AS postgres_id,
       raw_user_meta_data ->> 'name' AS name,
       email, phone, created_at, updated_at, last_sign_in_at, deleted_at, banned_until,
       coalesce(banned_until > now(), false) AS banned_now
FROM auth.users
WHERE raw_user_meta_data ->> 'firebase_uid' = ANY(CAST(:uids AS text[]))
ORDER BY created_at, id
