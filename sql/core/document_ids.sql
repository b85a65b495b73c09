-- what:   the ids of core documents (sync.document_missing_in_core / _in_supabase)
-- store:  core
-- params: none
SELECT id::text AS id FROM documents
