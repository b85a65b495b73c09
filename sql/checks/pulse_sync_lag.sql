-- what:   sync jobs that succeeded in the last 60 minutes (by updated_at) more than :minutes after
--         their created_at: the pipeline is slow (pulse.sync_lag)
-- store:  core
-- params: :minutes (int, default 10); :only_keys (text[]: these job ids only, read by the primary
--         key; NULL: every job); key: the job id
SELECT id::text AS key
FROM sync_jobs
WHERE status = 'succeeded'
  AND updated_at >= now() - interval '60 minutes'
  AND updated_at - created_at > make_interval(mins => :minutes)
  AND (CAST(:only_keys AS text[]) IS NULL OR id = ANY(CAST(:only_keys AS text[])::bigint[]))
