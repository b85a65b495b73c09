-- what:   documents still uploaded or processing :minutes after their created_at: the OCR step
--         never finished (pulse.documents_unprocessed)
-- store:  supabase
-- params: :minutes (int, default 30); :only_keys (text[]: these document ids only, read by the
--         primary key; NULL: every document); key: the document id
SELECT id::text AS key
FROM public.documents
WHERE status IN ('uploaded', 'processing')
  AND created_at < now() - make_interval(mins => :minutes)
  AND (CAST(:only_keys AS text[]) IS NULL OR id = ANY(CAST(:only_keys AS text[])::uuid[]))
