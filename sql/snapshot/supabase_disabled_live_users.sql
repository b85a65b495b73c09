-- what:   the Firebase uids among the given ones (the run's disabled Firebase Auth users) that a live
--         Supabase auth user still carries in its metadata firebase_uid (deleted_at null, banned_until
--         null or in the past) (identity.disabled_live_in_supabase), pushed down to the database:
--         the count of all of them and the first :limit uids
-- store:  supabase
-- params: :uids (text[], the uids of the disabled Firebase Auth users), :limit (int)
SELECT u.uid AS key, count(*) OVER () AS total
FROM (
    SELECT DISTINCT raw_user_meta_data ->> 'firebase_uid' AS uid
    FROM auth.users
    WHERE deleted_at IS NULL
      AND (banned_until IS NULL OR banned_until <= now())
      AND raw_user_meta_data ->> 'firebase_uid' = ANY (CAST(:uids AS text[]))
) u
ORDER BY u.uid
LIMIT :limit
