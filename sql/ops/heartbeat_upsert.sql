-- what:   the watcher's heartbeat: who works, its last run and the next one
-- store:  ops
-- params: :watcher, :host, :pid, :started_at, :last_run_at, :last_run_id, :next_run_at, :interval_s
INSERT INTO watch_heartbeat (watcher, host, pid, started_at, last_run_at, last_run_id, next_run_at, interval_s)
VALUES (:watcher, :host, :pid, :started_at, :last_run_at, :last_run_id, :next_run_at, :interval_s)
ON CONFLICT (watcher) DO UPDATE SET
    host = EXCLUDED.host, pid = EXCLUDED.pid, started_at = EXCLUDED.started_at,
    last_run_at = COALESCE(EXCLUDED.last_run_at, watch_heartbeat.last_run_at),
    last_run_id = COALESCE(EXCLUDED.last_run_id, watch_heartbeat.last_run_id),
    next_run_at = EXCLUDED.next_run_at, interval_s = EXCLUDED.interval_s
