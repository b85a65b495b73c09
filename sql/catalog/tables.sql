-- what:   the tables of the given schemas (ordinary and partitioned, not the partitions), whether
--         each has a primary key, and whether an extension owns it (the advisor lints skip those).
-- store:  core, supabase
-- params: :schemas (text[]) the schemas to describe
SELECT n.nspname::text AS schema_name,
       c.relname::text AS table_name,
       EXISTS (SELECT 1 FROM pg_constraint con
               WHERE con.conrelid = c.oid AND con.contype = 'p') AS has_primary_key,
       EXISTS (SELECT 1 FROM pg_depend d
               WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                 AND d.deptype = 'e')                           AS extension_owned
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND NOT c.relispartition
  AND n.nspname = ANY(:schemas)
ORDER BY 1, 2
