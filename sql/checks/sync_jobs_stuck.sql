-- what:   sync jobs pending or running whose last update is older than :minutes (sync.jobs_stuck)
-- store:  core
-- params: :minutes (int, default 15); :only_keys (text[]: these job ids only, read by the primary
--         key; NULL: every job)
SELECT id::text AS key
FROM sync_jobs
WHERE status IN ('pending', 'running')
  AND updated_at < now() - make_interval(mins => :minutes)
  AND (CAST(:only_keys AS text[]) IS NULL OR id = ANY(CAST(:only_keys AS text[])::bigint[]))
