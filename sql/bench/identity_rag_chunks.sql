-- what:   move Supabase rag_chunks' identity sequence past the ids the builder wrote explicitly
-- store:  supabase (benchmark builder only)
-- params: none
SELECT setval(pg_get_serial_sequence('public.rag_chunks', 'id'), GREATEST(max(id), 1)) FROM public.rag_chunks
