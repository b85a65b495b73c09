-- what:   the watcher's heartbeat
-- store:  ops
-- params: :watcher
SELECT watcher, host, pid, started_at, last_run_at, last_run_id, next_run_at, interval_s, last_prune_at, last_digest_on
FROM watch_heartbeat
WHERE watcher = :watcher
