-- what:   Supabase documents whose file_url is one of :urls (core prescriptions' pdf_url that the
--         patient's own documents do not hold): where a prescription landed, and as which type
--         (it counts as synced only as type `prescription`, sync.prescription_missing_in_supabase)
-- store:  supabase
-- params: :urls (text[]). documents.file_url has no index: run only for the few URLs not found
--         among the patient's documents
SELECT d.id::text AS id, d.patient_id, d.type, d.file_url
FROM public.documents d
WHERE d.file_url = ANY(CAST(:urls AS text[]))
