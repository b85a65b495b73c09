-- what:   appointments of the patients, whether they carry the user id (as the backend expects) or
--         the patients.id (the appointment-key mix-up's mix-up); patient_ok says whether patient_id is a
--         patients.user_id (orphan.appointments_patient when not)
-- store:  core
-- params: :refs (uuid[] as text[]: user ids and patients.id); appointments_patient_id_idx
SELECT a.id::text AS id, a.patient_id::text AS patient_id, a.doctor_id::text AS doctor_id, dr.full_name AS doctor,
       a.type, a.status, a.scheduled_at, a.created_at,
       EXISTS (SELECT 1 FROM patients p WHERE p.user_id = a.patient_id) AS patient_ok
FROM appointments a
LEFT JOIN doctors dr ON dr.id = a.doctor_id
WHERE a.patient_id = ANY(CAST(:refs AS uuid[]))
ORDER BY a.scheduled_at DESC, a.id
