-- what:   record one delivery attempt (append-only)
-- store:  ops
-- params: :outbox_id, :channel, :ok, :error
INSERT INTO alert_attempts (outbox_id, channel, ok, error)
VALUES (:outbox_id, :channel, :ok, :error)
RETURNING id
