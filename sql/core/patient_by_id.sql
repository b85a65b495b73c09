-- what:   the Firebase UID behind a core id: a users.id, a patients.id, or the id of a document or
--         an appointment of the patient (which may carry the user id or the patients.id, seeds 001
--         and 004); one row per kind of id that matched
-- store:  core
-- params: :id (uuid as text); every branch is a primary-key lookup
SELECT u.firebase_uid, 'core user id' AS via, u.id::text AS user_id
FROM users u
WHERE u.id = CAST(:id AS uuid)
UNION ALL
SELECT u.firebase_uid, 'core patient id', u.id::text
FROM patients p
JOIN users u ON u.id = p.user_id
WHERE p.id = CAST(:id AS uuid)
UNION ALL
SELECT coalesce(u.firebase_uid, u2.firebase_uid), 'core document id', coalesce(u.id, u2.id)::text
FROM documents d
LEFT JOIN patients p ON p.id = d.patient_id
LEFT JOIN users u ON u.id = p.user_id
LEFT JOIN users u2 ON u2.id = d.patient_id
WHERE d.id = CAST(:id AS uuid)
UNION ALL
SELECT coalesce(u.firebase_uid, u2.firebase_uid), 'core appointment id', coalesce(u.id, u2.id)::text
FROM appointments a
LEFT JOIN users u ON u.id = a.patient_id
LEFT JOIN patients p ON p.id = a.patient_id
LEFT JOIN users u2 ON u2.id = p.user_id
WHERE a.id = CAST(:id AS uuid)
