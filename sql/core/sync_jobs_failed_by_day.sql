-- what:   failed sync jobs per day of their last update and per kind, over the last :days days
--         (the Health page's "failures by kind over time"; the count itself is sync.jobs_failed)
-- store:  core
-- params: :days (int)
SELECT date_trunc('day', updated_at) AS day, kind, count(*) AS failed
FROM sync_jobs
WHERE status = 'failed'
  AND updated_at >= date_trunc('day', now()) - make_interval(days => :days)
GROUP BY 1, 2
ORDER BY 1, 2
