-- what:   Supabase documents whose patient_id is none of the given Firebase uids
--         (orphan.supabase_documents_patient), pushed down to the database: the count of all of them
--         and the first :limit ids; the uids are the run's Firebase Auth snapshot
-- store:  supabase
-- params: :uids (text[], every Firebase Auth uid), :limit (int)
SELECT d.id::text AS key, count(*) OVER () AS total
FROM public.documents d
WHERE d.patient_id IS NULL OR d.patient_id <> ALL (CAST(:uids AS text[]))
ORDER BY d.id
LIMIT :limit
