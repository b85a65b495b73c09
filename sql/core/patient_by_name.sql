-- what:   core patients whose full name, with runs of white space collapsed and lower-cased,
--         contains the fragment (patient lookup by name: the pick list), at most :limit rows
-- store:  core
-- params: :pattern (text, a LIKE pattern '%fragment%' with %, _ and \ escaped by backslash),
--         :limit (int). A substring match reads the table (a pg_trgm GIN index on the expression
--         would serve it on a very large table); the statement timeout bounds it
SELECT u.firebase_uid, p.full_name, u.email, u.id::text AS user_id
FROM patients p
JOIN users u ON u.id = p.user_id
WHERE lower(regexp_replace(p.full_name, '\s+', ' ', 'g')) LIKE :pattern
ORDER BY p.full_name, u.firebase_uid
LIMIT :limit
