-- what:   every check's result in one run
-- store:  ops
-- params: :run_id
SELECT check_id, severity, count, sample, duration_ms, error
FROM check_results
WHERE run_id = :run_id
ORDER BY check_id
