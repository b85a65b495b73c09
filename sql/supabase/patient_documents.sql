-- what:   Supabase documents of the patients (patient_id one of :uids) and those whose id is one of
--         :ids (the patients' core documents), with whether the file is in bucket `documents`
--         (orphan.documents_file_missing when not; the object name as in that check) and how many
--         rag_chunks hang off each
-- store:  supabase
-- params: :uids (text[]), :ids (uuid[] as text[]); documents_patient_id_idx, the primary key,
--         storage.objects (bucket_id, name), rag_chunks_document_id_idx
SELECT d.id::text AS id, d.patient_id, d.type, d.status, d.file_url, d.ocr_confidence, d.created_at, d.processed_at,
       EXISTS (
           SELECT 1 FROM storage.objects o
           WHERE o.bucket_id = 'documents'
             AND o.name = (regexp_match(d.file_url, '/storage/v1/object/(public/)?documents/([^?#]+)'))[2]
       ) AS file_present,
       (SELECT count(*) FROM public.rag_chunks c WHERE c.document_id = d.id) AS rag_chunks
FROM public.documents d
WHERE d.patient_id = ANY(CAST(:uids AS text[]))
   OR d.id = ANY(CAST(:ids AS uuid[]))
ORDER BY d.created_at DESC
