-- what:   objects in bucket `documents` under the patients' folders ("<uid>/…") that no Supabase
--         document's file_url names (orphan.storage_objects for these patients). The objects the
--         patients' own documents name are set aside first (an indexed read); only what is left,
--         normally nothing, is checked against every document's file_url, as the check does
-- store:  supabase
-- params: :uids (text[]).
--         An object is under a patient's folder when its first path segment is the uid; an
--         expression index on storage.objects (split_part(name, '/', 1)) serves it on a large project
--         (without it, the bucket is read), documents_patient_id_idx serves `named`
WITH mine AS (
    SELECT o.name, o.created_at
    FROM storage.objects o
    WHERE o.bucket_id = 'documents'
      AND split_part(o.name, '/', 1) = ANY(CAST(:uids AS text[]))
      AND strpos(o.name, '/') > 0
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
