-- what:   the Supabase auth users of a Firebase uid soft-deleted now (deleted_at, updated_at set)
-- store:  supabase (benchmark harness and tests only)
-- params: :uid
UPDATE auth.users SET deleted_at = now(), updated_at = now()
WHERE raw_user_meta_data ->> 'firebase_uid' = :uid AND deleted_at IS NULL
