-- what:   sync.prescription_missing_in_supabase on the check run's engine tables: the core prescriptions
--         whose file URL (md5, 16 bytes) no Supabase prescription document has; k the prescription id
--         (16 bytes), total the exact count
-- store:  engine (DuckDB, lib.checks.engine)
-- params: $limit (int): how many keys to return
WITH keys AS (
    SELECT c.id AS k
    FROM core_prescriptions c
    ANTI JOIN sb_prescriptions s ON s.url_md5 = c.url_md5
)
SELECT k, (SELECT count(*) FROM keys) AS total
FROM keys
ORDER BY k
LIMIT $limit
