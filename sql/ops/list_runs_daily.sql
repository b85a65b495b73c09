-- what:   the last run of each day since :since, newest first (the weekly review's run picker,
--         beside the latest runs)
-- store:  ops
-- params: :since (timestamptz)
SELECT DISTINCT ON (date_trunc('day', started_at)) id, started_at, finished_at, source, generated, demo
FROM check_runs
WHERE started_at >= :since
ORDER BY date_trunc('day', started_at) DESC, started_at DESC, id DESC
