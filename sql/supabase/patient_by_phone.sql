-- what:   Supabase auth users whose phone ends with one of :tails (last 7 digits, any format; GoTrue
--         keeps digits without "+"): the candidates of a phone lookup, compared in E.164 by lib.patient
-- store:  supabase
-- params: :tails (text[], 7 digits each); an expression index on
--         right(regexp_replace(phone, '\D', '', 'g'), 7) serves it on a large project
SELECT id::text AS id, raw_user_meta_data ->> 'firebase_uid' AS firebase_uid,
       raw_user_meta_data ->> 'name' AS name, phone, (deleted_at IS NOT NULL) AS deleted
FROM auth.users
WHERE right(regexp_replace(phone, '\D', '', 'g'), 7) = ANY(CAST(:tails AS text[]))
ORDER BY created_at, id
