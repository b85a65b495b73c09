-- what:   Supabase auth users whose email, trimmed and lower-cased, is one of :emails (patient lookup)
-- store:  supabase
-- params: :emails (text[], trimmed and lower-cased). GoTrue stores emails lower-cased; an index on
--         lower(btrim(email)) serves this on a large project
SELECT id::text AS id, raw_user_meta_data ->> 'firebase_uid' AS firebase_uid,
       raw_user_meta_data ->> 'name' AS name, email, (deleted_at IS NOT NULL) AS deleted
FROM auth.users
WHERE lower(btrim(email)) = ANY(CAST(:emails AS text[]))
ORDER BY created_at, id
