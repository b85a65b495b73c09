-- what:   rag_chunks whose document_id is no Supabase document (orphan.rag_chunks_document)
-- store:  supabase
-- params: none; key: the chunk id
SELECT c.id::text AS key
FROM public.rag_chunks c
WHERE NOT EXISTS (SELECT 1 FROM public.documents d WHERE d.id = c.document_id)
