-- what:   the core users (and their patients row) of the given Firebase UIDs: patient lookup,
--         side by side with the other stores
-- store:  core
-- params: :uids (text[]); served by UNIQUE (firebase_uid) and UNIQUE (patients.user_id)
SELECT u.id::text AS id, u.firebase_uid, u.email, u.phone, u.role, u.verified, u.created_at, u.updated_at,
       p.id::text AS patient_id, p.full_name, p.date_of_birth, p.created_at AS patient_created_at
FROM users u
LEFT JOIN patients p ON p.user_id = u.id
WHERE u.firebase_uid = ANY(CAST(:uids AS text[]))
