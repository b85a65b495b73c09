-- what:   sync.document_missing_in_core on the check run's engine tables: the distinct ids (16 bytes) of
--         processed Supabase documents that core does not have; total the exact count
-- store:  engine (DuckDB, lib.checks.engine)
-- params: $limit (int): how many keys to return
WITH keys AS (
    SELECT DISTINCT s.id AS k
    FROM sb_document_ids s
    ANTI JOIN core_document_ids c ON c.id = s.id
    WHERE s.processed
)
SELECT k, (SELECT count(*) FROM keys) AS total
FROM keys
ORDER BY k
LIMIT $limit
