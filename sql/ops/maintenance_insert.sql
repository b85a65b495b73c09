-- what:   open a maintenance window (no alert is sent while it lasts)
-- store:  ops
-- params: :starts_at, :ends_at, :reason, :created_by
INSERT INTO maintenance_windows (starts_at, ends_at, reason, created_by)
VALUES (:starts_at, :ends_at, :reason, :created_by)
RETURNING id
