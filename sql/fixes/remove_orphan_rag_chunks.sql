-- id:         remove_orphan_rag_chunks
-- title:      Remove orphan RAG chunks (archived first)
-- what:       rag_chunks whose document_id is no Supabase document (orphan.rag_chunks_document)
--             are copied to ops_archive.rag_chunks and deleted by one statement.
-- store:      supabase
-- resolves:   orphan.rag_chunks_document
-- blocked_by: none
-- verify:     orphan.rag_chunks_document
-- affects:    none
-- risk:       low: the chunks belong to no document, so no search can reach them. Row locks only.
-- params:     :run_id (bigint) the audit log id of this run, recorded in every archived row

-- step: the archive schema (outside public: the advisor lints look at public only)
CREATE SCHEMA IF NOT EXISTS ops_archive

-- step: archive table for rag_chunks
CREATE TABLE IF NOT EXISTS ops_archive.rag_chunks (
    LIKE public.rag_chunks, archived_at timestamptz NOT NULL, fix_id text NOT NULL, fix_run_id bigint NOT NULL)

-- step: archive and remove the chunks of no document
WITH gone AS (
    DELETE FROM public.rag_chunks c
    WHERE NOT EXISTS (SELECT 1 FROM public.documents d WHERE d.id = c.document_id)
    RETURNING c.*
)
INSERT INTO ops_archive.rag_chunks
SELECT g.*, now(), 'remove_orphan_rag_chunks', CAST(:run_id AS bigint) FROM gone g
RETURNING id::text AS key, patient_id, document_id::text AS document_id
