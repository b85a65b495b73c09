-- what:   the benchmark's view of core identities for reladiff: each core user's Firebase UID and
--         users.id (a native uuid), the same key columns the identity reconciliation reads.
--         Benchmark-only write path (schema bench of the benchmark's own stores).
-- store:  core
-- params: none
CREATE SCHEMA IF NOT EXISTS bench;
CREATE OR REPLACE VIEW bench.core_identities AS
SELECT firebase_uid, id AS pid
FROM public.users
WHERE firebase_uid IS NOT NULL;
