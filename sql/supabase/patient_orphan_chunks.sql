-- what:   the patients' rag_chunks whose document_id is no Supabase document
--         (orphan.rag_chunks_document for these patients)
-- store:  supabase
-- params: :uids (text[]). rag_chunks.patient_id has no index: this reads the table, bounded by the
--         statement timeout (an index on rag_chunks (patient_id) serves it on a large project)
SELECT c.id::text AS id, c.patient_id, c.document_id::text AS document_id, c.created_at
FROM public.rag_chunks c
WHERE c.patient_id = ANY(CAST(:uids AS text[]))
  AND NOT EXISTS (SELECT 1 FROM public.documents d WHERE d.id = c.document_id)
ORDER BY c.id
