-- what:   the latest check runs, newest first
-- store:  ops
-- params: :limit
SELECT id, started_at, finished_at, source, generated, demo
FROM check_runs
ORDER BY started_at DESC, id DESC
LIMIT :limit
