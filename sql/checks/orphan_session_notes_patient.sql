-- what:   session notes whose patient_id is no patients.id (orphan.session_notes_patient, the deleted-patient outage)
-- store:  core
-- params: none; key: the note id
SELECT n.id::text AS key
FROM session_notes n
WHERE NOT EXISTS (SELECT 1 FROM patients p WHERE p.id = n.patient_id)
