-- what:   the audit log of fix attempts, newest first, optionally of one fix: one row per attempt
--         (its start row's id), in its latest state (the end row's outcome, rows, duration and
--         details when it has ended; 'started' while it runs)
-- store:  ops
-- params: :fix (text or NULL for every fix), :limit (int)
SELECT s.id, s.at, s.who, s.role, s.fix, s.action, coalesce(e.outcome, s.outcome) AS outcome,
       coalesce(e.rows_touched, s.rows_touched) AS rows, s.reason, coalesce(e.checksum, s.checksum) AS checksum,
       s.stores, coalesce(e.duration_ms, s.duration_ms) AS duration_ms, s.detail || coalesce(e.detail, '{}'::jsonb)
       AS detail
FROM fix_audit s
LEFT JOIN fix_audit e ON e.attempt = s.id
WHERE s.attempt IS NULL AND (CAST(:fix AS text) IS NULL OR s.fix = CAST(:fix AS text))
ORDER BY s.id DESC
LIMIT :limit
