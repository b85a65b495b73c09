-- what:   Supabase auth users whose metadata name, white space collapsed and lower-cased, contains
--         the fragment (patient lookup by name, for patients core does not know), at most :limit
-- store:  supabase
-- params: :pattern (text, '%fragment%' with %, _ and \ escaped by backslash), :limit (int); reads
--         the table, bounded by the statement timeout
SELECT id::text AS id, raw_user_meta_data ->> 'firebase_uid' AS firebase_uid,
       raw_user_meta_data ->> 'name' AS name, email, (deleted_at IS NOT NULL) AS deleted
FROM auth.users
WHERE lower(regexp_replace(raw_user_meta_data ->> 'name', '\s+', ' ', 'g')) LIKE :pattern
ORDER BY raw_user_meta_data ->> 'name', id
LIMIT :limit
