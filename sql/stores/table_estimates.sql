-- what:   the planner's row estimate (pg_class.reltuples, as of the last ANALYZE; -1 when never
--         analysed) of the given tables: what a lookup without its recommended index reads
--         (lib.patient.indexes, the Stores page); free, unlike count(*)
-- store:  core, supabase
-- params: :tables (text[], "schema.table")
SELECT n.nspname || '.' || c.relname AS table_name, c.reltuples::bigint AS estimate
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname || '.' || c.relname = ANY(CAST(:tables AS text[]))
