-- what:   core users whose phone ends with one of :tails (its last 7 digits, whatever the format it
--         is stored in: "+1 (415) 867-2345", "415.867.2345", "+14158672345"): the candidates of a
--         phone lookup, which lib.patient then compares in E.164 (lib.normalize.phone), and the users
--         sharing a patient's phone for dup.core_users_phone. An expression index
--         `CREATE INDEX ON users (right(regexp_replace(phone, '\D', '', 'g'), 7))` serves it
-- store:  core
-- params: :tails (text[], 7 digits each)
SELECT u.id::text AS id, u.firebase_uid, u.email, u.phone, u.role, u.created_at
FROM users u
WHERE right(regexp_replace(u.phone, '\D', '', 'g'), 7) = ANY(CAST(:tails AS text[]))
ORDER BY u.created_at, u.id
