-- what:   append the end of a fix attempt: its outcome (planned | applied | nothing to do |
--         refused: … | failed: …), rows, duration and details (counts before and after), next to
--         its start row; no row when the attempt already has an end (it was marked abandoned)
-- store:  ops
-- params: :id (the start row's id), :outcome, :rows, :duration_ms, :checksum, :detail (json text)
INSERT INTO fix_audit (attempt, who, role, fix, checksum, action, stores, rows_touched, outcome, reason,
                       duration_ms, detail)
SELECT s.id, s.who, s.role, s.fix, coalesce(CAST(:checksum AS text), s.checksum), s.action, s.stores, :rows,
       :outcome, s.reason, :duration_ms, CAST(:detail AS jsonb)
FROM fix_audit s
WHERE s.id = :id AND s.attempt IS NULL
ON CONFLICT (attempt) WHERE attempt IS NOT NULL DO NOTHING
RETURNING id
