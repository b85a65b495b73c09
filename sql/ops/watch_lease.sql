-- what:   take the watcher's lease: a session advisory lock on this connection (true: taken)
-- store:  ops
-- params: none
SELECT pg_try_advisory_lock(hashtext('healbridge-ops watcher')) AS taken
