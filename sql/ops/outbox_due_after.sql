-- what:   the next pending message (id after :after_id) whose attempt is due, locked for this
--         sender until its transaction ends (another sender skips it)
-- store:  ops
-- params: :now, :after_id
SELECT id, run_id, kind, channel, channel_key, title, body, notify_type, dedup_key, checks, attempts
FROM alert_outbox
WHERE status = 'pending' AND next_attempt_at <= :now AND id > :after_id
ORDER BY id
LIMIT 1
FOR UPDATE SKIP LOCKED
