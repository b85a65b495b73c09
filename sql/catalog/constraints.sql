-- what:   the live constraints of the given schemas (primary key, unique, foreign key, check,
--         exclusion), with their definition as PostgreSQL prints it, whether they are validated,
--         their columns in key order and, for foreign keys, the referenced table, columns and
--         ON DELETE action. NOT NULL (contype 'n', listed since PostgreSQL 18) and constraint
--         triggers are left out; so are domain constraints (they belong to no table).
-- store:  core, supabase
-- params: :schemas (text[]) the schemas to describe
SELECT n.nspname::text                         AS schema_name,
       c.relname::text                         AS table_name,
       con.conname::text                       AS name,
       con.contype::text                       AS contype,
       pg_get_constraintdef(con.oid)           AS definition,
       con.convalidated                        AS validated,
       ARRAY(SELECT a.attname::text
             FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord)                   AS columns,
       rn.nspname::text                        AS ref_schema,
       rc.relname::text                        AS ref_table,
       ARRAY(SELECT a.attname::text
             FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
             ORDER BY k.ord)                   AS ref_columns,
       CASE con.confdeltype
           WHEN 'a' THEN 'NO ACTION'
           WHEN 'r' THEN 'RESTRICT'
           WHEN 'c' THEN 'CASCADE'
           WHEN 'n' THEN 'SET NULL'
           WHEN 'd' THEN 'SET DEFAULT'
       END                                     AS on_delete,
       ic.relname::text                        AS index_name
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class rc ON rc.oid = con.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
LEFT JOIN pg_class ic ON ic.oid = con.conindid AND con.contype IN ('p', 'u', 'x')
WHERE con.contype IN ('p', 'u', 'f', 'c', 'x')
  AND n.nspname = ANY(:schemas)
ORDER BY 1, 2, 3
