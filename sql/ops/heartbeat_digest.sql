-- what:   record the day the watcher last queued the weekly digest
-- store:  ops
-- params: :watcher, :day
UPDATE watch_heartbeat SET last_digest_on = :day WHERE watcher = :watcher
