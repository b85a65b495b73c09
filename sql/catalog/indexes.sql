-- what:   the live indexes of the given schemas: definition (pg_get_indexdef), uniqueness,
--         predicate (a partial index has one), the key columns in order (NULL where the key is an
--         expression; INCLUDE columns left out), the constraint the index backs if any, and the
--         raw catalog fields two indexes must share to be duplicates (indkey, expressions,
--         predicate, operator classes, collations, sort options, access method, uniqueness).
-- store:  core, supabase
-- params: :schemas (text[]) the schemas to describe
SELECT n.nspname::text                              AS schema_name,
       c.relname::text                              AS table_name,
       ic.relname::text                             AS name,
       pg_get_indexdef(i.indexrelid)                AS definition,
       i.indisunique                                AS is_unique,
       i.indisprimary                               AS is_primary,
       i.indisvalid                                 AS is_valid,
       i.indpred IS NOT NULL                        AS partial,
       pg_get_expr(i.indpred, i.indrelid)           AS predicate,
       ARRAY(SELECT a.attname::text
             FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum AND k.attnum > 0
             WHERE k.ord <= i.indnkeyatts
             ORDER BY k.ord)                        AS columns,
       am.amname::text                              AS method,
       i.indkey::text                               AS indkey,
       i.indclass::text                             AS indclass,
       i.indcollation::text                         AS indcollation,
       i.indoption::text                            AS indoption,
       i.indnkeyatts                                AS key_count,
       pg_get_expr(i.indexprs, i.indrelid)          AS expressions,
       con.conname::text                            AS constraint_name
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_am am ON am.oid = ic.relam
LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                           AND con.contype IN ('p', 'u', 'x')
WHERE n.nspname = ANY(:schemas)
  AND c.relkind IN ('r', 'p', 'm')
ORDER BY 1, 2, 3
