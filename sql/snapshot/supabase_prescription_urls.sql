-- what:   the md5 of every Supabase prescription document's file_url (type `prescription`), in COPY's
--         binary format; compared with core/prescription md5s (sync.prescription_missing_in_supabase)
-- store:  supabase
-- params: none
SELECT DISTINCT md5(file_url)::uuid AS url_md5
FROM public.documents
WHERE type = 'prescription' AND file_url IS NOT NULL
