-- what:   the oldest check runs of the history, oldest first (the weekly review's fallback when
--         the history is younger than a week)
-- store:  ops
-- params: :limit
SELECT id, started_at, finished_at, source, generated, demo
FROM check_runs
ORDER BY started_at, id
LIMIT :limit
