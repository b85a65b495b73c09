-- what:   :n patients the incremental benchmark changes, in a seeded random order: core patients
--         with a Firebase uid and nothing that a deletion of them would break (no appointment, no
--         medication points at them); their uid, users.id and patients.id
-- store:  core (benchmark harness and tests only)
-- params: :n, :seed
SELECT u.firebase_uid AS uid, u.id::text AS user_id, p.id::text AS patient_id
FROM users u
JOIN patients p ON p.user_id = u.id
WHERE u.role = 'PATIENT' AND u.firebase_uid IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.patient_id = p.id)
  AND NOT EXISTS (SELECT 1 FROM medications m WHERE m.patient_id = p.id)
ORDER BY md5(u.id::text || CAST(:seed AS text))
LIMIT :n
