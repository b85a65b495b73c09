-- what:   the newest check run that was not generated, started at or after a moment (null: any)
-- store:  ops
-- params: :not_before
SELECT id, started_at, finished_at, stores
FROM check_runs
WHERE NOT generated
  AND (CAST(:not_before AS timestamptz) IS NULL OR started_at >= CAST(:not_before AS timestamptz))
ORDER BY started_at DESC, id DESC
LIMIT 1
