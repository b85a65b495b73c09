-- what:   objects in bucket `documents` that no document's file_url names (orphan.storage_objects);
--         a file_url names the part after /storage/v1/object/[public/]documents/, without a query
-- store:  supabase
-- params: none; key: the object's name
SELECT o.name AS key
FROM storage.objects o
WHERE o.bucket_id = 'documents'
  AND NOT EXISTS (
      SELECT 1 FROM public.documents d
      WHERE (regexp_match(d.file_url, '/storage/v1/object/(public/)?documents/([^?#]+)'))[2] = o.name)
