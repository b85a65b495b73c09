-- what:   sync.field_drift's keys from table drift: `uid|field|storeA=valueA|storeB=valueB`; total the
--         exact count, the first keys in order
-- store:  engine (DuckDB, lib.checks.engine)
-- params: $limit (int): how many keys to return
WITH keys AS (
    SELECT uid || '|' || field || '|' || store_a || '=' || value_a || '|' || store_b || '=' || value_b AS k
    FROM drift
)
SELECT k, (SELECT count(*) FROM keys) AS total
FROM keys
ORDER BY k
LIMIT $limit
