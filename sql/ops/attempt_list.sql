-- what:   the delivery attempts of one message, oldest first
-- store:  ops
-- params: :outbox_id
SELECT id, outbox_id, at, channel, ok, error
FROM alert_attempts
WHERE outbox_id = :outbox_id
ORDER BY id
