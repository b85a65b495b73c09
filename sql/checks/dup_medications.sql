-- what:   medications beyond the first (oldest) per (document_id, lower(name), strength): the
--         document sync ran twice (dup.medications, the double document sync)
-- store:  core
-- params: none; key: the surplus medication's id
SELECT id::text AS key
FROM (
    SELECT id, row_number() OVER (PARTITION BY document_id, lower(name), strength ORDER BY created_at, id) AS rn
    FROM medications
    WHERE document_id IS NOT NULL
) m
WHERE rn > 1
