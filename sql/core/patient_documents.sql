-- what:   core documents of the patients: those whose patient_id is one of :refs (the patients.id,
--         or the user id that the deleted-patient outage's outage wrote), and those whose id is one of :ids (the
--         patients' Supabase documents, whatever patient_id core holds); patient_ok says whether
--         patient_id is a patients.id (orphan.documents_patient when not)
-- store:  core
-- params: :refs (uuid[] as text[]), :ids (uuid[] as text[]); documents_patient_id_idx and the primary key
SELECT d.id::text AS id, d.patient_id::text AS patient_id, d.type, d.file_url, d.ocr_confidence, d.created_at,
       EXISTS (SELECT 1 FROM patients p WHERE p.id = d.patient_id) AS patient_ok
FROM documents d
WHERE d.patient_id = ANY(CAST(:refs AS uuid[]))
   OR d.id = ANY(CAST(:ids AS uuid[]))
ORDER BY d.created_at DESC
