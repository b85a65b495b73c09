-- what:   record what the watcher saw of one check or store in this run
-- store:  ops
-- params: :subject, :count, :opened_at, :notified_count, :down_runs, :down_since, :alerted, :run_id
INSERT INTO alert_state (subject, count, opened_at, notified_count, down_runs, down_since, alerted, run_id, updated_at)
VALUES (:subject, :count, :opened_at, :notified_count, :down_runs, :down_since, :alerted, :run_id, now())
ON CONFLICT (subject) DO UPDATE SET
    count = EXCLUDED.count, opened_at = EXCLUDED.opened_at, notified_count = EXCLUDED.notified_count,
    down_runs = EXCLUDED.down_runs, down_since = EXCLUDED.down_since, alerted = EXCLUDED.alerted,
    run_id = EXCLUDED.run_id, updated_at = now()
