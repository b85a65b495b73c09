-- what:   core documents whose patient_id is no patients.id (orphan.documents_patient, the deleted-patient outage)
-- store:  core
-- params: none; key: the document id
SELECT d.id::text AS key
FROM documents d
WHERE NOT EXISTS (SELECT 1 FROM patients p WHERE p.id = d.patient_id)
