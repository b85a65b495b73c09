-- what:   sync jobs pending or running whose last update is older than :minutes (sync.jobs_stuck)
-- store:  core
-- params: :minutes (int, default 15)
SELECT id::text AS key
FROM sync_jobs
WHERE status IN ('pending', 'running')
  AND updated_at < now() - make_interval(mins => :minutes)
