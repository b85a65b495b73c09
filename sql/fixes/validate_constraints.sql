-- id:         validate_constraints
-- title:      Validate the NOT VALID foreign keys and checks
-- what:       for each foreign key and check added NOT VALID and never validated, in the schemas
--             the expected constraints name (constraint.not_valid), one at a time: count the rows
--             that violate it and, when none does, VALIDATE CONSTRAINT. The query below lists
--             them; for each it builds (with format's %I quoting) the query that finds the
--             violating rows and the VALIDATE statement, and the runner runs those, in order;
--             a foreign key's shape (key column, columns, referenced table and columns) lets a
--             held run's orphan check stand for its violating rows on the Fixes page.
--             When any constraint has violating rows, nothing is validated: the runner refuses
--             and names each such constraint with its rows.
-- store:      core, supabase
-- resolves:   constraint.not_valid
-- blocked_by: none (each constraint's own violating rows, counted inside the transaction)
-- verify:     constraint.not_valid
-- affects:    none
-- risk:       low: VALIDATE CONSTRAINT takes a SHARE UPDATE EXCLUSIVE lock (reads and writes go
--             on) and scans the table once; the referenced table gets a ROW SHARE lock. The two
--             stores commit one after the other: validating is harmless to repeat.
-- params:     :schemas (text[]) the schemas of the store that the expected constraints name

-- each: NOT VALID foreign keys and checks, with their violation query and VALIDATE statement
SELECT n.nspname::text                   AS schema_name,
       c.relname::text                   AS table_name,
       con.conname::text                 AS name,
       CASE con.contype WHEN 'f' THEN 'foreign_key' ELSE 'check' END AS kind,
       pg_get_constraintdef(con.oid)     AS definition,
       CASE con.contype
           WHEN 'f' THEN format(
               'SELECT %s::text AS key FROM %I.%I c WHERE %s AND NOT EXISTS (SELECT 1 FROM %I.%I p WHERE %s)',
               pk.expr, n.nspname, c.relname,
               (SELECT string_agg(format('c.%I IS NOT NULL', a.attname), ' AND ' ORDER BY k.ord)
                FROM unnest(con.conkey) WITH ORDINALITY AS k (attnum, ord)
                JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum),
               rn.nspname, rc.relname,
               (SELECT string_agg(format('p.%I = c.%I', fa.attname, a.attname), ' AND ' ORDER BY k.ord)
                FROM unnest(con.conkey, con.confkey) WITH ORDINALITY AS k (attnum, fattnum, ord)
                JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
                JOIN pg_attribute fa ON fa.attrelid = con.confrelid AND fa.attnum = k.fattnum))
           ELSE format('SELECT %s::text AS key FROM %I.%I c WHERE NOT (%s)',
                       pk.expr, n.nspname, c.relname, pg_get_expr(con.conbin, con.conrelid))
       END                               AS violations_sql,
       format('ALTER TABLE %I.%I VALIDATE CONSTRAINT %I', n.nspname, c.relname, con.conname) AS validate_sql,
       -- a foreign key's shape, so a check known to name the same rows can stand for its violations
       pk.col                            AS key_column,
       rn.nspname::text                  AS ref_schema,
       rc.relname::text                  AS ref_table,
       (SELECT array_agg(a.attname::text ORDER BY k.ord)
        FROM unnest(con.conkey) WITH ORDINALITY AS k (attnum, ord)
        JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS columns,
       (SELECT array_agg(a.attname::text ORDER BY k.ord)
        FROM unnest(con.confkey) WITH ORDINALITY AS k (attnum, ord)
        JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) AS ref_columns,
       (SELECT bool_and(a.attnotnull)
        FROM unnest(con.conkey) AS k (attnum)
        JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS columns_not_null
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class rc ON rc.oid = con.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
CROSS JOIN LATERAL (
    -- the row's key: its single-column primary key, else its ctid
    SELECT CASE WHEN k.col IS NULL THEN 'c.ctid' ELSE format('c.%I', k.col) END AS expr, k.col
    FROM (SELECT (SELECT a.attname::text
                  FROM pg_constraint p
                  JOIN pg_attribute a ON a.attrelid = p.conrelid AND a.attnum = p.conkey[1]
                  WHERE p.conrelid = con.conrelid AND p.contype = 'p' AND cardinality(p.conkey) = 1) AS col) k
) pk
WHERE con.contype IN ('f', 'c')
  AND NOT con.convalidated
  AND n.nspname = ANY (CAST(:schemas AS text[]))
ORDER BY n.nspname, c.relname, con.conname
