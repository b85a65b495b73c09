-- what:   the results of the watcher's latest full run (the most check results): what the
--         simulated year repeats, as it was saved (severity, count, sample, duration, error)
-- store:  ops (benchmark harness only)
-- params: none
SELECT c.check_id, c.severity, c.count, c.sample::text AS sample, c.duration_ms, c.error, r.stores::text AS stores
FROM check_results c
JOIN check_runs r ON r.id = c.run_id
WHERE c.run_id = (SELECT run_id FROM check_results GROUP BY run_id ORDER BY count(*) DESC, run_id DESC LIMIT 1)
ORDER BY c.check_id
