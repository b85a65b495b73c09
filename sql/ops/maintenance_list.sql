-- what:   the maintenance windows that have not ended before :since, newest first
-- store:  ops
-- params: :since, :limit
SELECT id, starts_at, ends_at, reason, created_by, created_at, ended_at, ended_by
FROM maintenance_windows
WHERE COALESCE(ended_at, ends_at) >= :since
ORDER BY starts_at DESC, id DESC
LIMIT :limit
