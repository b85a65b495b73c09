-- what:   prescriptions whose appointment_id is no appointment (orphan.prescriptions_appointment)
-- store:  core
-- params: none; key: the prescription id
SELECT r.id::text AS key
FROM prescriptions r
WHERE NOT EXISTS (SELECT 1 FROM appointments a WHERE a.id = r.appointment_id)
