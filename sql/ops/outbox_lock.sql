-- what:   one pending message by id, locked for this sender until its transaction ends
-- store:  ops
-- params: :id
SELECT id, run_id, kind, channel, channel_key, title, body, notify_type, dedup_key, checks, attempts
FROM alert_outbox
WHERE id = :id AND status = 'pending'
FOR UPDATE SKIP LOCKED
