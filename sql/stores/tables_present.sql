-- what:   which tables exist in the given schemas (for row counts of the Stores page)
-- store:  core, supabase
-- params: :schemas (text[])
SELECT n.nspname AS schema_name, c.relname AS table_name
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname = ANY(:schemas)
