-- what:   end an acknowledgement before its expiry (the row stays, with who ended it and when)
-- store:  ops
-- params: :id, :ended_by
UPDATE acknowledgements
SET ended_at = now(), ended_by = :ended_by
WHERE id = :id AND ended_at IS NULL
RETURNING id
