-- what:   documents still uploaded or processing :minutes after their created_at: the OCR step
--         never finished (pulse.documents_unprocessed)
-- store:  supabase
-- params: :minutes (int, default 30); key: the document id
SELECT id::text AS key
FROM public.documents
WHERE status IN ('uploaded', 'processing')
  AND created_at < now() - make_interval(mins => :minutes)
