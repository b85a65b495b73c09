-- id:         rag_chunks_fk
-- title:      Add rag_chunks.document_id → documents(id) ON DELETE CASCADE
-- what:       adds rag_chunks_document_id_fkey (dropping one of that name that stands otherwise),
--             NOT VALID first and then validated.
-- store:      supabase
-- resolves:   constraint.missing, constraint.mismatch, constraint.not_valid
-- blocked_by: orphan.rag_chunks_document
-- verify:     constraint.missing[supabase.rag_chunks.rag_chunks_document_id_fkey],
--             constraint.mismatch[supabase.rag_chunks.rag_chunks_document_id_fkey],
--             constraint.not_valid[supabase.rag_chunks.rag_chunks_document_id_fkey]
-- affects:    none
-- risk:       low once orphan.rag_chunks_document is 0: SHARE ROW EXCLUSIVE locks on rag_chunks and
--             documents until commit; validation scans rag_chunks once (it has an index on
--             document_id).
-- params:     none

-- step: drop rag_chunks_document_id_fkey if it stands otherwise
ALTER TABLE public.rag_chunks DROP CONSTRAINT IF EXISTS rag_chunks_document_id_fkey

-- step: add it, NOT VALID (no scan yet)
ALTER TABLE public.rag_chunks
    ADD CONSTRAINT rag_chunks_document_id_fkey
    FOREIGN KEY (document_id) REFERENCES public.documents (id) ON DELETE CASCADE NOT VALID

-- step: validate it against every existing chunk
ALTER TABLE public.rag_chunks VALIDATE CONSTRAINT rag_chunks_document_id_fkey
