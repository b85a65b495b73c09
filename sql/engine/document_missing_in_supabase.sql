-- what:   sync.document_missing_in_supabase on the check run's engine tables: the distinct ids (16 bytes)
--         of core documents that Supabase does not have (in any status); total the exact count
-- store:  engine (DuckDB, lib.checks.engine)
-- params: $limit (int): how many keys to return
WITH keys AS (
    SELECT DISTINCT c.id AS k
    FROM core_document_ids c
    ANTI JOIN sb_document_ids s ON s.id = c.id
)
SELECT k, (SELECT count(*) FROM keys) AS total
FROM keys
ORDER BY k
LIMIT $limit
