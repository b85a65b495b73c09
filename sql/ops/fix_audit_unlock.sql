-- what:   release the attempt's session advisory lock (fix_audit_lock) once its end is written
-- store:  ops
-- params: :namespace (int) the attempt locks' namespace, :id (bigint) the start row's id
SELECT pg_advisory_unlock(CAST(:namespace AS integer), CAST(CAST(:id AS bigint) % 2147483648 AS integer))
