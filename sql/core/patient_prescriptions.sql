-- what:   prescriptions of the patients: those of their appointments, and those their sync jobs
--         name (which still finds a prescription whose appointment is gone); appointment_ok says
--         whether appointment_id is an appointment (orphan.prescriptions_appointment when not)
-- store:  core
-- params: :appointment_ids (uuid[] as text[]), :ids (uuid[] as text[]). prescriptions.appointment_id
--         wants an index on a large table (advisor.unindexed_foreign_key reports it)
SELECT r.id::text AS id, r.appointment_id::text AS appointment_id, r.pdf_url, r.summary_json, r.created_at,
       EXISTS (SELECT 1 FROM appointments a WHERE a.id = r.appointment_id) AS appointment_ok
FROM prescriptions r
WHERE r.appointment_id = ANY(CAST(:appointment_ids AS uuid[]))
   OR r.id = ANY(CAST(:ids AS uuid[]))
ORDER BY r.created_at DESC, r.id
