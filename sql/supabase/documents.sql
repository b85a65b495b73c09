-- what:   the keys of Supabase documents for the cross-store checks: id, patient uid, status, type, file_url
-- store:  supabase
-- params: none
SELECT id::text AS id, patient_id, status, type, file_url FROM public.documents
