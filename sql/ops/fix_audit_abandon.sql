-- what:   mark abandoned every started attempt that has no end and whose session advisory lock
--         (fix_audit_lock) nobody holds: the process that ran it died; appends one end row each
--         (never twice: the unique index on attempt) and returns them for the access audit log
-- store:  ops
-- params: :namespace (int) the attempt locks' namespace, :noticed_by (text) who listed or ran
WITH me AS (SELECT oid FROM pg_database WHERE datname = current_database())
INSERT INTO fix_audit (attempt, who, role, fix, checksum, action, stores, outcome, reason, detail)
SELECT s.id, s.who, s.role, s.fix, s.checksum, s.action, s.stores, 'abandoned', s.reason,
       jsonb_build_object('noticed_by', CAST(:noticed_by AS text),
                          'why', 'its process ended without completing the attempt')
FROM fix_audit s
WHERE s.attempt IS NULL AND s.outcome = 'started'
  AND NOT EXISTS (SELECT 1 FROM fix_audit e WHERE e.attempt = s.id)
  AND NOT EXISTS (SELECT 1 FROM pg_locks l, me
                  WHERE l.locktype = 'advisory' AND l.database = me.oid AND l.granted AND l.objsubid = 2
                    AND l.classid = CAST(:namespace AS integer)
                    AND l.objid = CAST(s.id % 2147483648 AS integer))
ORDER BY s.id
ON CONFLICT (attempt) WHERE attempt IS NOT NULL DO NOTHING
RETURNING attempt, who, role, fix, action, reason, checksum
