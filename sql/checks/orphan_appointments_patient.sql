-- what:   appointments whose patient_id is no patients.user_id (orphan.appointments_patient, the appointment-key mix-up)
-- store:  core
-- params: none; key: the appointment id
SELECT a.id::text AS key
FROM appointments a
WHERE NOT EXISTS (SELECT 1 FROM patients p WHERE p.user_id = a.patient_id)
