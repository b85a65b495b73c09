-- what:   the newest run that started at or before a moment (the weekly review's "a week ago")
-- store:  ops
-- params: :before
SELECT id FROM check_runs WHERE started_at <= :before ORDER BY started_at DESC, id DESC LIMIT 1
