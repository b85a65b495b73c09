-- what:   end a maintenance window now (kept, marked ended)
-- store:  ops
-- params: :id, :ended_by
UPDATE maintenance_windows
SET ended_at = now(), ended_by = :ended_by
WHERE id = :id AND ended_at IS NULL
RETURNING id
