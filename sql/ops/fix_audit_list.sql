-- what:   the audit log of fix attempts, newest first, optionally of one fix
-- store:  ops
-- params: :fix (text or NULL for every fix), :limit (int)
SELECT id, at, who, role, fix, action, outcome, rows_touched AS rows, reason, checksum, stores,
       duration_ms, detail
FROM fix_audit
WHERE CAST(:fix AS text) IS NULL OR fix = CAST(:fix AS text)
ORDER BY id DESC
LIMIT :limit
