-- what:   for each of :uids, whether Supabase documents or patient-doctor connections name it
--         (a Firebase UID that only these rows still carry is found too)
-- store:  supabase
-- params: :uids (text[]); documents_patient_id_idx and the connections' (patient_firebase_uid, …)
--         unique index or partial index
SELECT u.uid AS firebase_uid,
       EXISTS (SELECT 1 FROM public.documents d WHERE d.patient_id = u.uid) AS documents,
       EXISTS (SELECT 1 FROM public.patient_doctor_connections c WHERE c.patient_firebase_uid = u.uid) AS connections
FROM unnest(CAST(:uids AS text[])) AS u(uid)
