-- what:   documents whose file_url names no object in bucket `documents` (orphan.documents_file_missing)
-- store:  supabase
-- params: none; key: the document id
SELECT d.id::text AS key
FROM public.documents d
WHERE NOT EXISTS (
    SELECT 1 FROM storage.objects o
    WHERE o.bucket_id = 'documents'
      AND o.name = (regexp_match(d.file_url, '/storage/v1/object/(public/)?documents/([^?#]+)'))[2])
