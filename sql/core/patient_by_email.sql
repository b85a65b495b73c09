-- what:   core users whose email, trimmed and lower-cased, is one of :emails (patient lookup by email,
--         and the users sharing a patient's email for dup.core_users_email); the comparison is on
--         lower(btrim(email)), the expression of dup_core_users_email, so an index
--         `CREATE INDEX ON users (lower(btrim(email)))` serves it where the table is large
-- store:  core
-- params: :emails (text[], already trimmed and lower-cased)
SELECT u.id::text AS id, u.firebase_uid, u.email, u.phone, u.role, u.created_at
FROM users u
WHERE lower(btrim(u.email)) = ANY(CAST(:emails AS text[]))
ORDER BY u.created_at, u.id
