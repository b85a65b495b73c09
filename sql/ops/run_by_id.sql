-- what:   one check run of the history
-- store:  ops
-- params: :id
SELECT id, started_at, finished_at, source, generated, demo, stores
FROM check_runs
WHERE id = :id
