-- what:   the id and patient_firebase_uid of every patient_doctor_connections row
--         (orphan.connections_patient)
-- store:  supabase
-- params: none
SELECT id::text AS id, patient_firebase_uid FROM public.patient_doctor_connections
