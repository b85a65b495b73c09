-- what:   how many maintenance windows are active at :now
-- store:  ops
-- params: :now
SELECT count(*) AS n
FROM maintenance_windows
WHERE starts_at <= :now AND ends_at > :now AND (ended_at IS NULL OR ended_at > :now)
