-- what:   what the watcher last saw of every check and store (locked for the run's transaction)
-- store:  ops
-- params: none
SELECT subject, count, opened_at, notified_count, down_runs, down_since, alerted
FROM alert_state
ORDER BY subject
FOR UPDATE
