-- what:   the run of the history just before a given run (the Health page's "since the previous
--         run"): the newest that started at or before :before, other than :exclude
-- store:  ops
-- params: :before (timestamptz), :exclude (bigint, the run itself; -1 for none)
SELECT id, started_at, generated
FROM check_runs
WHERE started_at <= :before AND id <> :exclude
ORDER BY started_at DESC, id DESC
LIMIT 1
