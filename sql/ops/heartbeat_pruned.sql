-- what:   record when the watcher last pruned the history
-- store:  ops
-- params: :watcher, :at
UPDATE watch_heartbeat SET last_prune_at = :at WHERE watcher = :watcher
