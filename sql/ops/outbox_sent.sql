-- what:   mark one message delivered (only after its channel said so)
-- store:  ops
-- params: :id
UPDATE alert_outbox
SET status = 'sent', sent_at = clock_timestamp(), attempts = attempts + 1, last_error = NULL
WHERE id = :id
