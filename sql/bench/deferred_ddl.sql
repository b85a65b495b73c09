-- what:   the keys, indexes and foreign keys of the freshly created schema (schemas public, auth,
--         storage), each with the statement that drops it and the one that creates it again from
--         the catalog's own definition (same name, same definition): the builder drops them
--         before the fill and creates them after it (building an index once, sorted, is much
--         faster than growing it row by row; a foreign key added after the fill is checked in one
--         join). Drop in drop_order, create in create_order: keys, then indexes, then foreign keys.
-- store:  core and supabase (benchmark builder only)
-- params: none
SELECT x.kind, x.name, x.drop_order, x.create_order, x.drop_sql, x.create_sql
FROM (
    SELECT 'foreign key' AS kind, c.conname::text AS name, 1 AS drop_order, 3 AS create_order,
           format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname) AS drop_sql,
           format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname,
                  pg_get_constraintdef(c.oid)) AS create_sql
    FROM pg_constraint AS c
    JOIN pg_namespace AS n ON n.oid = c.connamespace
    WHERE c.contype = 'f' AND n.nspname IN ('public', 'auth', 'storage')
    UNION ALL
    SELECT 'key', c.conname::text, 2, 1,
           format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname),
           format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid))
    FROM pg_constraint AS c
    JOIN pg_namespace AS n ON n.oid = c.connamespace
    WHERE c.contype IN ('p', 'u') AND n.nspname IN ('public', 'auth', 'storage')
    UNION ALL
    SELECT 'index', ic.relname::text, 3, 2,
           format('DROP INDEX %s', i.indexrelid::regclass),
           pg_get_indexdef(i.indexrelid)
    FROM pg_index AS i
    JOIN pg_class AS ic ON ic.oid = i.indexrelid
    JOIN pg_namespace AS n ON n.oid = ic.relnamespace
    WHERE n.nspname IN ('public', 'auth', 'storage')
      AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
) AS x
ORDER BY x.drop_order, x.name
