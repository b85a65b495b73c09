-- what:   what the watcher last saw of every check and store (the dashboard's open checks)
-- store:  ops
-- params: none
SELECT subject, count, opened_at, notified_count, down_runs, down_since, alerted, run_id, updated_at
FROM alert_state
ORDER BY subject
