-- what:   the most frequent last_error messages of failed sync jobs, with the kinds they hit and
--         when each was last seen
-- store:  core
-- params: :limit (int)
SELECT coalesce(nullif(btrim(last_error), ''), '(no message)') AS last_error,
       count(*)                                               AS jobs,
       string_agg(DISTINCT kind, ', ' ORDER BY kind)           AS kinds,
       max(updated_at)                                        AS last_seen
FROM sync_jobs
WHERE status = 'failed'
GROUP BY 1
ORDER BY jobs DESC, last_seen DESC, 1
LIMIT :limit
