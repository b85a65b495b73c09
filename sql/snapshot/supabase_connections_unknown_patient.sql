-- what:   connections whose patient_firebase_uid is none of the given Firebase uids
--         (orphan.connections_patient), pushed down to the database: the count of all of them and
--         the first :limit ids; the uids are the run's Firebase Auth snapshot
-- store:  supabase
-- params: :uids (text[], every Firebase Auth uid), :limit (int)
SELECT c.id::text AS key, count(*) OVER () AS total
FROM public.patient_doctor_connections c
WHERE c.patient_firebase_uid IS NULL OR c.patient_firebase_uid <> ALL (CAST(:uids AS text[]))
ORDER BY c.id
LIMIT :limit
