-- what:   the patient lookup benchmark's sample: patients (core users with role PATIENT, a patients
--         row and a Firebase UID) in a fixed pseudo-random order given by the seed, with every
--         identifier the lookup recognises that core holds (UID, email, phone, user id, patient id,
--         name)
-- store:  core
-- params: :seed (text), :n (how many)
SELECT u.firebase_uid, u.email, u.phone, u.id::text AS user_id, p.id::text AS patient_id, p.full_name
FROM users u
JOIN patients p ON p.user_id = u.id
WHERE u.role = 'PATIENT' AND u.firebase_uid IS NOT NULL
ORDER BY md5(:seed || ':' || u.id::text)
LIMIT :n
