-- what:   every core user's identity for the cross-store checks: firebase_uid, email, phone, role,
--         and whether a patients row hangs off it
-- store:  core
-- params: none
SELECT u.id::text AS id, u.firebase_uid, u.email, u.phone, u.role, u.created_at,
       (p.id IS NOT NULL) AS is_patient
FROM users u
LEFT JOIN patients p ON p.user_id = u.id
