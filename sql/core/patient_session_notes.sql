-- what:   session notes of the patients, whether they carry the patients.id (as expected) or the user
--         id (the deleted-patient outage's outage); patient_ok says whether patient_id is a patients.id
--         (orphan.session_notes_patient when not)
-- store:  core
-- params: :refs (uuid[] as text[]: patients.id and user ids); session_notes_patient_id_idx
SELECT n.id::text AS id, n.patient_id::text AS patient_id, n.doctor_id::text AS doctor_id, dr.full_name AS doctor,
       n.note, n.created_at,
       EXISTS (SELECT 1 FROM patients p WHERE p.id = n.patient_id) AS patient_ok
FROM session_notes n
LEFT JOIN doctors dr ON dr.id = n.doctor_id
WHERE n.patient_id = ANY(CAST(:refs AS uuid[]))
ORDER BY n.created_at DESC, n.id
