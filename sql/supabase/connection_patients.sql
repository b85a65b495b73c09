-- what:   each connection's id and patient uid (orphan.connections_patient)
-- store:  supabase
-- params: none
SELECT id::text AS id, patient_firebase_uid FROM public.patient_doctor_connections
