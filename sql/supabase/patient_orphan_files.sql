-- what:   objects in bucket `documents` under the patients' folders ("<uid>/…") that no Supabase
--         document's file_url names (orphan.storage_objects for these patients). The objects the
--         patients' own documents name are set aside first (an indexed read); only what is left,
--         normally nothing, is checked against every document's file_url, as the check does
-- store:  supabase
-- params: :prefixes (text[], LIKE patterns '<uid>/%' with %, _ and \ escaped by backslash),
--         :uids (text[]); the (bucket_id, name) index, documents_patient_id_idx
WITH mine AS (
    SELECT o.name, o.created_at
    FROM storage.objects o
    WHERE o.bucket_id = 'documents'
      AND o.name LIKE ANY(CAST(:prefixes AS text[]))
), named AS (
    SELECT (regexp_match(d.file_url, '/storage/v1/object/(public/)?documents/([^?#]+)'))[2] AS name
    FROM public.documents d
    WHERE d.patient_id = ANY(CAST(:uids AS text[]))
), left_over AS (
    SELECT m.name, m.created_at
    FROM mine m
    WHERE NOT EXISTS (SELECT 1 FROM named n WHERE n.name = m.name)
)
SELECT l.name, l.created_at
FROM left_over l
WHERE NOT EXISTS (
    SELECT 1 FROM public.documents d
    WHERE (regexp_match(d.file_url, '/storage/v1/object/(public/)?documents/([^?#]+)'))[2] = l.name)
ORDER BY l.name
