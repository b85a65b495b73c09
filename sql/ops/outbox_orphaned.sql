-- what:   a message whose channel is no longer configured: kept, no longer sent
-- store:  ops
-- params: :id, :error
UPDATE alert_outbox
SET status = 'orphaned', last_error = :error
WHERE id = :id
