-- what:   every core user's identity for the cross-store checks (read once per run, by COPY):
--         id, firebase_uid, email, phone, role, and whether a patients row hangs off it; oldest first
--         (created_at, id), so "the first of a group" is simply the first row
-- store:  core
-- params: none
SELECT u.id::text AS id, u.firebase_uid, u.email, u.phone, u.role,
       CASE WHEN EXISTS (SELECT 1 FROM patients p WHERE p.user_id = u.id) THEN 't' ELSE 'f' END AS is_patient
FROM users u
ORDER BY u.created_at, u.id
