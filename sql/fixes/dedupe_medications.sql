-- id:         dedupe_medications
-- title:      Remove duplicate medications (archived first)
-- what:       The document sync ran twice. Per (document_id, lower(name), strength)
--             keeps the oldest medication (by created_at, then id, as dup.medications orders
--             them); every surplus row is copied to ops_archive.medications and deleted by one
--             statement.
-- store:      core
-- resolves:   dup.medications
-- blocked_by: none
-- verify:     dup.medications
-- affects:    none
-- risk:       low: the duplicates carry the same drug and strength; reminders set on a surplus
--             row are in the archive. Row locks only.
-- params:     :run_id (bigint) the audit log id of this run, recorded in every archived row

-- step: the archive schema (outside public: the advisor lints look at public only)
CREATE SCHEMA IF NOT EXISTS ops_archive

-- step: archive table for medications
CREATE TABLE IF NOT EXISTS ops_archive.medications (
    LIKE public.medications, archived_at timestamptz NOT NULL, fix_id text NOT NULL, fix_run_id bigint NOT NULL)

-- step: archive and remove every medication but the oldest per (document, name, strength)
WITH gone AS (
    DELETE FROM public.medications m
    USING (
        SELECT id, row_number() OVER (
            PARTITION BY document_id, lower(name), strength ORDER BY created_at, id) AS rn
        FROM public.medications
        WHERE document_id IS NOT NULL
    ) d
    WHERE d.id = m.id AND d.rn > 1
    RETURNING m.*
)
INSERT INTO ops_archive.medications
SELECT g.*, now(), 'dedupe_medications', CAST(:run_id AS bigint) FROM gone g
RETURNING id::text AS key, name, strength
