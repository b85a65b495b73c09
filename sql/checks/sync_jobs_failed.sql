-- what:   sync jobs that failed (sync.jobs_failed); key: the job id
-- store:  core
-- params: none
SELECT id::text AS key FROM sync_jobs WHERE status = 'failed'
