-- what:   objects in bucket `documents` that no document's file_url names (orphan.storage_objects);
--         a file_url names the part after /storage/v1/object/[public/]documents/, without a query.
--         The names are cut out once with string functions (a regexp is 30x slower), then
--         anti-joined.
-- store:  supabase
-- params: none; key: the object's name
WITH named AS (
    SELECT split_part(split_part(coalesce(
               substr(file_url, nullif(strpos(file_url, '/storage/v1/object/public/documents/'), 0) + 36),
               substr(file_url, nullif(strpos(file_url, '/storage/v1/object/documents/'), 0) + 29)),
           '?', 1), '#', 1) AS name
    FROM public.documents
    WHERE file_url IS NOT NULL
)
SELECT o.name AS key
FROM storage.objects o
WHERE o.bucket_id = 'documents'
  AND NOT EXISTS (SELECT 1 FROM named n WHERE n.name = o.name)
