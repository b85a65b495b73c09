-- what:   sync jobs that failed (sync.jobs_failed); key: the job id
-- store:  core
-- params: :only_keys (text[]: these job ids only, read by the primary key; NULL: every job)
SELECT id::text AS key FROM sync_jobs
WHERE status = 'failed'
  AND (CAST(:only_keys AS text[]) IS NULL OR id = ANY(CAST(:only_keys AS text[])::bigint[]))
