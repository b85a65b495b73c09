-- what:   complete the audit record of a fix attempt: its outcome (planned | applied | nothing to
--         do | refused: … | failed: …), rows, duration and details (counts before and after)
-- store:  ops
-- params: :id, :outcome, :rows, :duration_ms, :checksum, :detail (json text)
UPDATE fix_audit
SET outcome = :outcome,
    rows_touched = :rows,
    duration_ms = :duration_ms,
    checksum = coalesce(:checksum, checksum),
    detail = detail || CAST(:detail AS jsonb)
WHERE id = :id
