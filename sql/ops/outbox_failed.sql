-- what:   record a failed delivery of one message and when to try again
-- store:  ops
-- params: :id, :next_attempt_at, :error
UPDATE alert_outbox
SET attempts = attempts + 1, next_attempt_at = :next_attempt_at, last_error = :error
WHERE id = :id
