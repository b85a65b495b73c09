-- what:   the watcher benchmark's view of the runs the watcher saved after run :after_id: id and
--         how many check results each holds
-- store:  ops (benchmark harness only)
-- params: :after_id
SELECT r.id, (SELECT count(*) FROM check_results c WHERE c.run_id = r.id) AS checks
FROM check_runs r
WHERE r.source = 'watch' AND r.id > :after_id
ORDER BY r.id
